package ui

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/launch"
	"github.com/vetted-dev/vetted/scan/report"
)

// VersionURL is the version page of name@version; ReviewURL its review page.
func VersionURL(name, version string) string { return Prefix + "/versions/" + keyPath(name, version) }
func ReviewURL(name, version string) string  { return Prefix + "/review/" + keyPath(name, version) }

func keyPath(name, version string) string {
	ns, n, _ := strings.Cut(name, "/")
	return url.PathEscape(ns) + "/" + url.PathEscape(n) + "/" + url.PathEscape(version)
}

func pathKey(r *http.Request) registry.Key {
	return registry.Key{Name: r.PathValue("ns") + "/" + r.PathValue("name"), Version: r.PathValue("version")}
}

type dashboardData struct {
	Counts    []statusCount
	Decisions []registry.AuditEvent
	TopVulns  []registry.VulnSummary
	Queue     int
	Events    int64
}

type statusCount struct {
	Status registry.Status
	Count  int
	// Note says where the count comes from when it is not the stored versions.
	Note string
}

var listedStatuses = []registry.Status{registry.StatusPublished, registry.StatusPendingReview, registry.StatusQuarantined,
	registry.StatusRejected, registry.StatusDeprecated}

func (h *Handler) dashboard(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	var d dashboardData
	counts, err := h.cfg.Desk.Counts(ctx)
	if err != nil {
		h.failErr(w, r, s, err)
		return
	}
	// Rejected publishes are not stored as versions: the audit chain counts them, with the
	// versions reviewers rejected.
	rejected, err := h.cfg.Desk.Rejections(ctx)
	if err != nil {
		h.failErr(w, r, s, err)
		return
	}
	for _, st := range listedStatuses {
		c := statusCount{Status: st, Count: counts[st]}
		switch st {
		case registry.StatusPendingReview:
			d.Queue = c.Count
		case registry.StatusRejected:
			c.Count, c.Note = rejected, "publishes and reviews, from the audit chain"
		}
		d.Counts = append(d.Counts, c)
	}
	fs, err := h.cfg.Desk.Findings(ctx, registry.FindingQuery{Statuses: []registry.Status{registry.StatusPublished}})
	if err != nil {
		h.failErr(w, r, s, err)
		return
	}
	d.TopVulns = registry.TopVulnerabilities(fs, 10)
	decisions, err := h.cfg.Desk.RecentAudit(ctx, 10, func(e registry.AuditEvent) bool { return e.Type != registry.AuditVEX })
	if err != nil {
		h.failErr(w, r, s, err)
		return
	}
	d.Decisions = decisions
	// The chain is verified on the audit page; the dashboard stays cheap on a long chain.
	if d.Events, err = h.cfg.Desk.AuditLength(ctx); err != nil {
		h.failErr(w, r, s, err)
		return
	}
	h.render(w, r, s, http.StatusOK, "dashboard", page{Title: "Dashboard", Nav: "dashboard", Data: d})
}

type queueRow struct {
	Name, Version string
	PublishedAt   time.Time
	Publisher     string
	Why           []registry.Check
	URL           string
}

func (h *Handler) queue(w http.ResponseWriter, r *http.Request, s *session) {
	var after *registry.Key
	if a := r.URL.Query().Get("after"); a != "" {
		n, v, _ := strings.Cut(a, "@")
		after = &registry.Key{Name: n, Version: v}
	}
	items, more, err := h.cfg.Desk.Queue(r.Context(), after, 50)
	if err != nil {
		h.failErr(w, r, s, err)
		return
	}
	var rows []queueRow
	for _, it := range items {
		q := queueRow{Name: it.Version.Name, Version: it.Version.Version, PublishedAt: it.Version.PublishedAt, Why: it.Why,
			URL: ReviewURL(it.Version.Name, it.Version.Version)}
		if it.Record != nil {
			q.Publisher = it.Record.Actor
		}
		rows = append(rows, q)
	}
	next := ""
	if more && len(items) > 0 {
		last := items[len(items)-1].Version
		next = Prefix + "/queue?after=" + url.QueryEscape(last.Name+"@"+last.Version)
	}
	h.render(w, r, s, http.StatusOK, "queue", page{Title: "Review queue", Nav: "queue", Data: map[string]any{"Rows": rows, "Next": next}})
}

// versionView is what the version and review pages show.
type versionView struct {
	V          registry.Version
	Rec        *registry.VersionRecord
	Meta       registry.VettedMeta
	Scan       *registry.ScanSummary
	Reports    []*report.Report
	Tools      *registry.ToolReport
	Checks     []registry.Check
	Why        []registry.Check
	Diff       *toolDiff
	Launch     *launchView
	Prev       *registry.Version
	History    []registry.AuditEvent
	URL        string
	ReviewURL  string
	ActionBase string
	// Exceptions are the version's exceptions (ended ones too); Active those in effect now;
	// Acceptable the findings an approval may accept.
	Exceptions []registry.Exception
	Active     []registry.Exception
	Acceptable []acceptable
	// Findings are the tool lint findings with their text (review page); LaunchFindings
	// the launch-configuration findings.
	Findings       []findingRow
	LaunchFindings []launch.Finding
}

func (h *Handler) load(r *http.Request) (*versionView, error) {
	ctx := r.Context()
	k := pathKey(r)
	v, rec, err := h.cfg.Desk.Record(ctx, k)
	if err != nil {
		return nil, err
	}
	vv := &versionView{V: v, Rec: rec, URL: VersionURL(v.Name, v.Version), ReviewURL: ReviewURL(v.Name, v.Version),
		ActionBase: Prefix + "/versions/" + keyPath(v.Name, v.Version) + "/"}
	if len(v.Vetted) > 0 {
		_ = json.Unmarshal(v.Vetted, &vv.Meta)
	}
	if rec != nil {
		vv.Checks = rec.Checks
		for _, c := range rec.Checks {
			if c.Outcome != registry.Pass {
				vv.Why = append(vv.Why, c)
			}
		}
		if len(rec.ScanSummary) > 0 {
			var sum registry.ScanSummary
			if json.Unmarshal(rec.ScanSummary, &sum) == nil {
				vv.Scan = &sum
			}
		}
		if (vv.Scan == nil || vv.Scan.SnapshotID == "") && vv.Meta.Scan != nil {
			vv.Scan = vv.Meta.Scan
		}
		if len(rec.ToolReport) > 0 {
			var tr registry.ToolReport
			if json.Unmarshal(rec.ToolReport, &tr) == nil {
				vv.Tools = &tr
			}
		}
		if len(rec.ScanReport) > 0 {
			_, rs, err := h.cfg.Desk.Reports(ctx, k)
			if err != nil && !errors.Is(err, registry.ErrNotFound) {
				return nil, err
			}
			vv.Reports = rs
		}
	}
	if vv.Exceptions, err = h.cfg.Desk.Exceptions(ctx, k); err != nil {
		return nil, err
	}
	vv.Active = vv.activeExceptions(h.now())
	vv.Acceptable = vv.acceptables()
	for i := range vv.Acceptable {
		for _, e := range vv.Active {
			if acceptedBy(e, vv.Acceptable[i].Value) {
				vv.Acceptable[i].Accepted = true
			}
		}
	}
	return vv, nil
}

// acceptedBy reports whether e accepts the finding a form value names.
func acceptedBy(e registry.Exception, value string) bool {
	kind, rest, _ := strings.Cut(value, "|")
	switch kind {
	case registry.ExceptVulnerability:
		return e.CoversVulnerability(rest)
	case registry.ExceptLint:
		p := strings.SplitN(rest, "|", 3)
		return len(p) == 3 && e.Covers(registry.ToolFinding{Tool: p[0], Rule: p[1], Pointer: p[2]})
	}
	return false
}

func (h *Handler) version(w http.ResponseWriter, r *http.Request, s *session) {
	vv, err := h.load(r)
	if err != nil {
		h.failErr(w, r, s, err)
		return
	}
	subject := vv.V.Name + "@" + vv.V.Version
	es, _, err := h.cfg.Desk.Audit(r.Context(), 0, 100, registry.AuditFilter{Subject: subject})
	if err != nil {
		h.failErr(w, r, s, err)
		return
	}
	for _, e := range es {
		if e.Subject == subject {
			vv.History = append(vv.History, e)
		}
	}
	h.render(w, r, s, http.StatusOK, "version", page{Title: vv.V.Name + " " + vv.V.Version, Nav: "queue", Data: vv})
}

func (h *Handler) review(w http.ResponseWriter, r *http.Request, s *session) {
	vv, err := h.load(r)
	if err != nil {
		h.failErr(w, r, s, err)
		return
	}
	prev, prec, err := h.cfg.Desk.Previous(r.Context(), vv.V)
	if err != nil {
		h.failErr(w, r, s, err)
		return
	}
	vv.Prev = prev
	var cur, old []byte
	if vv.Rec != nil {
		cur = vv.Rec.ToolManifest
	}
	if prec != nil {
		old = prec.ToolManifest
	}
	var findings []registry.ToolFinding
	if vv.Tools != nil {
		findings = vv.Tools.Findings
	}
	vv.Diff = buildToolDiff(old, cur, findings)
	vv.Launch = buildLaunchView(prev, vv.V)
	for _, t := range vv.Diff.Tools {
		for _, f := range t.Findings {
			for _, e := range vv.Active {
				f.Accepted = f.Accepted || e.Covers(f.ToolFinding)
			}
			vv.Findings = append(vv.Findings, f)
		}
	}
	sort.SliceStable(vv.Findings, func(i, j int) bool {
		return severityOrder(vv.Findings[i].Severity) > severityOrder(vv.Findings[j].Severity)
	})
	for _, sec := range vv.Launch.Sections {
		vv.LaunchFindings = append(vv.LaunchFindings, sec.Findings...)
	}
	h.render(w, r, s, http.StatusOK, "review", page{Title: "Review " + vv.V.Name + " " + vv.V.Version, Nav: "queue", Data: vv})
}

// act runs approve, reject, quarantine or release from a form.
func (h *Handler) act(w http.ResponseWriter, r *http.Request, s *session) {
	k := pathKey(r)
	a := registry.Action{Key: k, Actor: s.Actor(), Reason: strings.TrimSpace(r.PostFormValue("reason"))}
	var err error
	action := r.PathValue("action")
	if action == registry.ActionApprove || action == registry.ActionRelease {
		var problem string
		if a.Exception, problem = exceptionFromForm(r); problem != "" {
			h.fail(w, r, s, http.StatusBadRequest, "Check the form", problem)
			return
		}
	}
	switch action {
	case registry.ActionApprove:
		_, err = h.cfg.Desk.Approve(r.Context(), a)
	case registry.ActionReject:
		_, err = h.cfg.Desk.Reject(r.Context(), a)
	case registry.ActionQuarantine:
		_, err = h.cfg.Desk.Quarantine(r.Context(), a)
	case registry.ActionRelease:
		_, err = h.cfg.Desk.Release(r.Context(), a)
	default:
		h.fail(w, r, s, http.StatusNotFound, "No such action", "Actions are approve, reject, quarantine and release.")
		return
	}
	if err != nil {
		h.failErr(w, r, s, err)
		return
	}
	if h.cfg.Changed != nil {
		h.cfg.Changed()
	}
	http.Redirect(w, r, VersionURL(k.Name, k.Version)+"?done="+action, http.StatusSeeOther)
}

type vulnData struct {
	ID       string
	Findings []registry.RegistryFinding
	Servers  int
	Top      []registry.VulnSummary
}

func (h *Handler) vulnerabilities(w http.ResponseWriter, r *http.Request, s *session) {
	id := strings.TrimSpace(r.URL.Query().Get("id"))
	if len(id) > 128 {
		h.fail(w, r, s, http.StatusBadRequest, "Check the form", "The vulnerability id is longer than 128 characters.")
		return
	}
	d := vulnData{ID: id}
	fs, err := h.cfg.Desk.Findings(r.Context(), registry.FindingQuery{Vulnerability: id, Statuses: []registry.Status{registry.StatusPublished, registry.StatusQuarantined}, IncludeSuppressed: id != ""})
	if err != nil {
		h.failErr(w, r, s, err)
		return
	}
	if id == "" {
		d.Top = registry.TopVulnerabilities(fs, 50)
	} else {
		d.Findings = fs
		seen := map[string]bool{}
		for _, f := range fs {
			if f.Status == registry.StatusPublished && f.Suppressed == nil && !seen[f.Server+"@"+f.Version] {
				seen[f.Server+"@"+f.Version] = true
				d.Servers++
			}
		}
	}
	h.render(w, r, s, http.StatusOK, "vulnerabilities", page{Title: "Vulnerabilities", Nav: "vulns", Data: d})
}

func (h *Handler) vexPage(w http.ResponseWriter, r *http.Request, s *session) {
	docs, err := h.cfg.Desk.ListVEX(r.Context(), true)
	if err != nil {
		h.failErr(w, r, s, err)
		return
	}
	sort.SliceStable(docs, func(i, j int) bool { return docs[i].UploadedAt.After(docs[j].UploadedAt) })
	h.render(w, r, s, http.StatusOK, "vex", page{Title: "VEX statements", Nav: "vex", Data: map[string]any{"Docs": docs, "Now": h.now()}})
}

func (h *Handler) vexUpload(w http.ResponseWriter, r *http.Request, s *session) {
	up := registry.VEXUpload{Document: []byte(r.PostFormValue("document")), Actor: s.Actor(), Reason: r.PostFormValue("reason")}
	for _, p := range strings.FieldsFunc(r.PostFormValue("products"), func(c rune) bool { return c == '\n' || c == ',' || c == '\r' }) {
		if p = strings.TrimSpace(p); p != "" {
			up.Products = append(up.Products, p)
		}
	}
	if e := strings.TrimSpace(r.PostFormValue("expires")); e != "" {
		t, err := parseFormTime(e)
		if err != nil {
			h.fail(w, r, s, http.StatusBadRequest, "Check the form", "The expires field: "+err.Error()+".")
			return
		}
		up.Expires = &t
	}
	if _, err := h.cfg.Desk.UploadVEX(r.Context(), up); err != nil {
		h.failErr(w, r, s, err)
		return
	}
	if h.cfg.Changed != nil {
		h.cfg.Changed()
	}
	http.Redirect(w, r, Prefix+"/vex?done=vex", http.StatusSeeOther)
}

func parseFormTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("want a date (2026-12-31) or a time (2026-12-31T18:00)")
}

func (h *Handler) vexWithdraw(w http.ResponseWriter, r *http.Request, s *session) {
	if _, err := h.cfg.Desk.WithdrawVEX(r.Context(), r.PathValue("id"), s.Actor(), r.PostFormValue("reason")); err != nil {
		h.failErr(w, r, s, err)
		return
	}
	if h.cfg.Changed != nil {
		h.cfg.Changed()
	}
	http.Redirect(w, r, Prefix+"/vex?done=withdraw", http.StatusSeeOther)
}

type auditData struct {
	Events []registry.AuditEvent
	Filter registry.AuditFilter
	Next   string
	Chain  registry.ChainStatus
	Types  []string
}

func (h *Handler) audit(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	f := registry.AuditFilter{Type: q.Get("type"), Actor: q.Get("actor"), Subject: q.Get("subject")}
	after, _ := strconv.ParseInt(q.Get("after"), 10, 64)
	if after < 0 {
		after = 0
	}
	es, next, err := h.cfg.Desk.Audit(r.Context(), after, 50, f)
	if err != nil {
		h.failErr(w, r, s, err)
		return
	}
	d := auditData{Events: es, Filter: f, Types: []string{registry.AuditPublishDecision, registry.AuditReviewDecision,
		registry.AuditQuarantine, registry.AuditRelease, registry.AuditVEX, registry.AuditRescan, registry.AuditConfigChange,
		registry.AuditExceptionApply, registry.AuditExceptionExpire, registry.AuditExceptionRevoke, registry.AuditImport, registry.AuditStatus}}
	if next > 0 {
		nq := url.Values{"after": {strconv.FormatInt(next, 10)}, "type": {f.Type}, "actor": {f.Actor}, "subject": {f.Subject}}
		d.Next = Prefix + "/audit?" + nq.Encode()
	}
	if d.Chain, err = h.cfg.Desk.VerifyAudit(r.Context()); err != nil {
		h.failErr(w, r, s, err)
		return
	}
	h.render(w, r, s, http.StatusOK, "audit", page{Title: "Audit log", Nav: "audit", Data: d})
}

// auditExport downloads the (filtered) audit log as JSON Lines.
func (h *Handler) auditExport(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	f := registry.AuditFilter{Type: q.Get("type"), Actor: q.Get("actor"), Subject: q.Get("subject")}
	w.Header().Set("Content-Type", "application/jsonl")
	w.Header().Set("Content-Disposition", `attachment; filename="vetted-audit.jsonl"`)
	enc := json.NewEncoder(w)
	if err := h.cfg.Desk.EachAudit(r.Context(), f, func(e registry.AuditEvent) error { return enc.Encode(e) }); err != nil {
		h.log.Error("ui: audit export", "error", err.Error())
	}
}

// scanDownload downloads a version's scan reports (VEX applied now) as JSON or SARIF.
func (h *Handler) scanDownload(w http.ResponseWriter, r *http.Request, s *session) {
	k := pathKey(r)
	_, rs, err := h.cfg.Desk.Reports(r.Context(), k)
	if err != nil {
		h.failErr(w, r, s, err)
		return
	}
	var b []byte
	name := strings.ReplaceAll(k.Name, "/", "_") + "-" + k.Version
	switch r.PathValue("format") {
	case "sarif":
		b, err = registry.SARIF(rs, "vetted")
		w.Header().Set("Content-Type", "application/sarif+json")
		name += ".sarif"
	case "json":
		b, err = json.MarshalIndent(map[string]any{"server": k.Name, "version": k.Version, "reports": rs}, "", "  ")
		w.Header().Set("Content-Type", "application/json")
		name += ".scan.json"
	default:
		h.fail(w, r, s, http.StatusNotFound, "No such format", "Scan reports download as json or sarif.")
		return
	}
	if err != nil {
		h.failErr(w, r, s, err)
		return
	}
	w.Header().Set("Content-Disposition", `attachment; filename="`+url.PathEscape(name)+`"`)
	_, _ = w.Write(b)
}

// severityOrder ranks a severity word (critical highest).
func severityOrder(s string) int {
	switch strings.ToLower(s) {
	case "critical":
		return 4
	case "high":
		return 3
	case "medium":
		return 2
	case "low":
		return 1
	}
	return 0
}
