package ui

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/vetted-dev/vetted/registry"
)

// serversData is the servers page: a page of servers, the search and the next page.
type serversData struct {
	Servers []serverRow
	Search  string
	Next    string
}

type serverRow struct {
	registry.ServerSummary
	// Counts are the non-zero counts, in the dashboard's status order.
	Counts []statusCount
}

func (h *Handler) servers(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	search := strings.TrimSpace(q.Get("q"))
	if len(search) > 128 {
		h.fail(w, r, s, http.StatusBadRequest, "Check the form", "The search is longer than 128 characters.")
		return
	}
	list, more, err := h.cfg.Desk.Servers(r.Context(), registry.ServerQuery{Search: search, After: q.Get("after"), Limit: 50})
	if err != nil {
		h.failErr(w, r, s, err)
		return
	}
	d := serversData{Search: search}
	for _, sv := range list {
		row := serverRow{ServerSummary: sv}
		for _, st := range append(append([]registry.Status{}, listedStatuses...), registry.StatusDeleted) {
			if n := sv.Counts[st]; n > 0 {
				row.Counts = append(row.Counts, statusCount{Status: st, Count: n})
			}
		}
		d.Servers = append(d.Servers, row)
	}
	if more && len(list) > 0 {
		d.Next = Prefix + "/servers?" + url.Values{"q": {search}, "after": {list[len(list)-1].Name}}.Encode()
	}
	h.render(w, r, s, http.StatusOK, "servers", page{Title: "Servers", Nav: "servers", Data: d})
}

// exceptionFromForm reads the approval form's exception fields: the findings ticked
// ("lint|tool|rule|pointer", "vulnerability|id" or "all") and an optional expiry. None
// ticked is no exception.
func exceptionFromForm(r *http.Request) (*registry.ExceptionRequest, string) {
	ticked := r.PostForm["accept"]
	if len(ticked) == 0 {
		if strings.TrimSpace(r.PostFormValue("expires")) != "" {
			return nil, "An expiry was given but no finding is ticked: tick the findings the exception accepts."
		}
		return nil, ""
	}
	req := &registry.ExceptionRequest{}
	for _, t := range ticked {
		kind, rest, _ := strings.Cut(t, "|")
		switch kind {
		case registry.ExceptAll:
			req.Findings = append(req.Findings, registry.ExceptedFinding{Kind: registry.ExceptAll})
		case registry.ExceptVulnerability:
			req.Findings = append(req.Findings, registry.ExceptedFinding{Kind: kind, Vulnerability: rest})
		case registry.ExceptLint:
			parts := strings.SplitN(rest, "|", 3)
			if len(parts) != 3 {
				return nil, "A ticked lint finding is malformed; reload the page."
			}
			req.Findings = append(req.Findings, registry.ExceptedFinding{Kind: kind, Tool: parts[0], Rule: parts[1], Pointer: parts[2]})
		default:
			return nil, "A ticked finding is malformed; reload the page."
		}
	}
	if e := strings.TrimSpace(r.PostFormValue("expires")); e != "" {
		t, err := parseFormTime(e)
		if err != nil {
			return nil, "The expiry: " + err.Error() + "."
		}
		req.Expires = &t
	}
	return req, ""
}

// acceptable is one finding the approval form offers to accept.
type acceptable struct {
	Value, Label string
	// Accepted is true when an exception in effect accepts it already.
	Accepted bool
}

// acceptables lists what a version's approval may accept: its lint findings and its
// vulnerabilities that no VEX statement suppresses.
func (vv *versionView) acceptables() []acceptable {
	var out []acceptable
	if vv.Tools != nil {
		for _, f := range vv.Tools.Findings {
			out = append(out, acceptable{Value: strings.Join([]string{registry.ExceptLint, f.Tool, f.Rule, f.Pointer}, "|"),
				Label: f.Rule + " (" + f.Severity + ") in " + f.Tool + " at " + f.Pointer})
		}
	}
	seen := map[string]bool{}
	for _, r := range vv.Reports {
		for _, f := range r.Findings {
			if f.Suppressed != nil || seen[f.Vulnerability.ID] {
				continue
			}
			seen[f.Vulnerability.ID] = true
			out = append(out, acceptable{Value: registry.ExceptVulnerability + "|" + f.Vulnerability.ID,
				Label: f.Vulnerability.ID + " (" + f.Vulnerability.Severity + ") in " + f.Package.Name + " " + f.Package.Version})
		}
	}
	return out
}

// activeExceptions are the exceptions of the version in effect at now.
func (vv *versionView) activeExceptions(now time.Time) []registry.Exception {
	var out []registry.Exception
	for _, e := range vv.Exceptions {
		if e.Active(now) {
			out = append(out, e)
		}
	}
	return out
}

func (h *Handler) revokeException(w http.ResponseWriter, r *http.Request, s *session) {
	e, _, err := h.cfg.Desk.RevokeException(r.Context(), r.PathValue("id"), s.Actor(), r.PostFormValue("reason"))
	if err != nil {
		h.failErr(w, r, s, err)
		return
	}
	if h.cfg.Changed != nil {
		h.cfg.Changed()
	}
	http.Redirect(w, r, VersionURL(e.Server, e.Version)+"?done=revoke", http.StatusSeeOther)
}
