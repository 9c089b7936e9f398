package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/vetted-dev/vetted/scan/vex"
)

// VEXDocument is an OpenVEX document a reviewer recorded: its statements apply to the
// products of its scope only, until it expires or is withdrawn.
type VEXDocument struct {
	// ID is the registry's identifier of the document (a UUID).
	ID string `json:"id"`
	// Digest is "sha256:<hex>" of Document.
	Digest string `json:"digest"`
	// Document is the OpenVEX JSON as uploaded.
	Document json.RawMessage `json:"-"`
	// Statements are the parsed statements (scan/vex).
	Statements []vex.Statement `json:"statements"`
	// Products is the scope: server names ("io.github.acme/weather"), versions
	// ("io.github.acme/weather@1.0.0") or image digests ("sha256:…").
	Products []string `json:"products"`
	// Expires, when set, ends the document's effect.
	Expires *time.Time `json:"expires,omitempty"`
	// Actor recorded it at UploadedAt, for Reason.
	Actor      string    `json:"actor"`
	Reason     string    `json:"reason"`
	UploadedAt time.Time `json:"uploadedAt"`
	// Withdrawn is set once the document was withdrawn.
	Withdrawn *VEXWithdrawal `json:"withdrawn,omitempty"`
}

// VEXWithdrawal is who withdrew a VEX document, when and why.
type VEXWithdrawal struct {
	Actor  string    `json:"actor"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// Active reports whether the document applies at now.
func (d VEXDocument) Active(now time.Time) bool {
	return d.Withdrawn == nil && (d.Expires == nil || now.Before(*d.Expires))
}

// VEXStore keeps VEX documents. Backends pass registry/storetest's VEX suite.
type VEXStore interface {
	// PutVEX records d and seals audit onto the chain in the same transaction. An existing
	// ID is ErrConflict.
	PutVEX(ctx context.Context, d VEXDocument, audit AuditEvent) (VEXDocument, AuditEvent, error)
	// GetVEX returns one document (ErrNotFound when none).
	GetVEX(ctx context.Context, id string) (VEXDocument, error)
	// ListVEX returns every document, oldest first; withdrawn ones only when asked.
	ListVEX(ctx context.Context, includeWithdrawn bool) ([]VEXDocument, error)
	// WithdrawVEX marks a document withdrawn and seals audit in the same transaction;
	// ErrNotFound when none, ErrConflict when it is already withdrawn.
	WithdrawVEX(ctx context.Context, id string, w VEXWithdrawal, audit AuditEvent) (VEXDocument, AuditEvent, error)
}

// VEXUpload is a reviewer's request to record an OpenVEX document.
type VEXUpload struct {
	Document []byte
	// Products is the scope; every statement's products must lie within it.
	Products []string
	Expires  *time.Time
	Actor    string
	Reason   string
}

// MaxVEXProducts bounds a document's scope.
const MaxVEXProducts = 100

// UploadVEX validates and records an OpenVEX document, then re-evaluates quarantine state.
func (d *Desk) UploadVEX(ctx context.Context, up VEXUpload) (VEXDocument, error) {
	if strings.TrimSpace(up.Actor) == "" {
		return VEXDocument{}, &FieldError{Field: "actor", Reason: "an authenticated actor is required"}
	}
	if err := checkReason(up.Reason); err != nil {
		return VEXDocument{}, err
	}
	now := d.clock().UTC()
	if up.Expires != nil && !up.Expires.After(now) {
		return VEXDocument{}, &FieldError{Field: "expires", Reason: fmt.Sprintf("%s is not in the future", up.Expires.UTC().Format(time.RFC3339))}
	}
	if len(up.Products) == 0 {
		return VEXDocument{}, &FieldError{Field: "products", Reason: "name at least one product (server name, name@version or image digest) the document covers"}
	}
	if len(up.Products) > MaxVEXProducts {
		return VEXDocument{}, &FieldError{Field: "products", Reason: fmt.Sprintf("more than %d products", MaxVEXProducts)}
	}
	scope := make([]string, 0, len(up.Products))
	for i, p := range up.Products {
		p = strings.TrimSpace(p)
		if err := d.checkProduct(ctx, p); err != nil {
			return VEXDocument{}, &FieldError{Field: fmt.Sprintf("products[%d]", i), Reason: err.Error()}
		}
		scope = append(scope, p)
	}
	stmts, err := vex.Parse(up.Document)
	if err != nil {
		return VEXDocument{}, &FieldError{Field: "document", Reason: err.Error()}
	}
	if len(stmts) == 0 {
		return VEXDocument{}, &FieldError{Field: "document", Reason: "the document has no statements"}
	}
	for i, s := range stmts {
		for _, p := range s.Products {
			if !inScope(p, scope) {
				return VEXDocument{}, &FieldError{Field: "document",
					Reason: fmt.Sprintf("statement %d (%s) names product %q outside the scope %v", i, s.Vulnerability, p, scope)}
			}
		}
	}
	doc := VEXDocument{
		ID: uuid.NewString(), Digest: Digest(up.Document), Document: append(json.RawMessage(nil), up.Document...),
		Statements: stmts, Products: scope, Expires: up.Expires, Actor: up.Actor, Reason: up.Reason, UploadedAt: now,
	}
	if doc.Expires != nil {
		e := doc.Expires.UTC()
		doc.Expires = &e
	}
	vulns := make([]string, 0, len(stmts))
	for _, s := range stmts {
		vulns = append(vulns, s.Vulnerability+":"+s.Status)
	}
	data, err := json.Marshal(map[string]any{"action": "upload", "id": doc.ID, "digest": doc.Digest, "reason": up.Reason,
		"products": scope, "statements": vulns, "expires": doc.Expires})
	if err != nil {
		return VEXDocument{}, err
	}
	stored, _, err := d.store.PutVEX(ctx, doc, AuditEvent{Time: now, Type: AuditVEX, Actor: up.Actor, Subject: "vex/" + doc.ID, Data: data})
	if err != nil {
		return VEXDocument{}, err
	}
	d.afterVEX(ctx)
	return stored, nil
}

// WithdrawVEX withdraws a document, then re-evaluates quarantine state.
func (d *Desk) WithdrawVEX(ctx context.Context, id, actor, reason string) (VEXDocument, error) {
	if strings.TrimSpace(actor) == "" {
		return VEXDocument{}, &FieldError{Field: "actor", Reason: "an authenticated actor is required"}
	}
	if err := checkReason(reason); err != nil {
		return VEXDocument{}, err
	}
	now := d.clock().UTC()
	data, err := json.Marshal(map[string]any{"action": "withdraw", "id": id, "reason": reason})
	if err != nil {
		return VEXDocument{}, err
	}
	out, _, err := d.store.WithdrawVEX(ctx, id, VEXWithdrawal{Actor: actor, Reason: reason, At: now},
		AuditEvent{Time: now, Type: AuditVEX, Actor: actor, Subject: "vex/" + id, Data: data})
	if err != nil {
		return VEXDocument{}, err
	}
	d.afterVEX(ctx)
	return out, nil
}

// ListVEX returns the recorded documents, oldest first.
func (d *Desk) ListVEX(ctx context.Context, includeWithdrawn bool) ([]VEXDocument, error) {
	return d.store.ListVEX(ctx, includeWithdrawn)
}

// GetVEX returns one document.
func (d *Desk) GetVEX(ctx context.Context, id string) (VEXDocument, error) {
	return d.store.GetVEX(ctx, id)
}

// VEXSet returns the statements in effect now: those of active documents, each restricted
// to its document's scope and expiry. Scanners use it (see registry/adapt.NewScanner).
func (d *Desk) VEXSet(ctx context.Context) (*vex.Set, error) {
	docs, err := d.store.ListVEX(ctx, false)
	if err != nil {
		return nil, err
	}
	now := d.clock()
	var stmts []vex.Statement
	for _, doc := range docs {
		if !doc.Active(now) {
			continue
		}
		for _, s := range doc.Statements {
			if doc.Expires != nil && (s.Expires == nil || doc.Expires.Before(*s.Expires)) {
				e := *doc.Expires
				s.Expires = &e
			}
			if s.Document == "" {
				s.Document = doc.ID
			}
			stmts = append(stmts, s)
		}
	}
	return vex.NewSet(stmts...), nil
}

func (d *Desk) afterVEX(ctx context.Context) {
	if d.rescan == nil {
		return
	}
	if err := d.rescan(ctx); err != nil {
		d.log.Warn("re-scan after a VEX change failed", slog.String("error", err.Error()))
	}
}

// checkProduct accepts a server name, name@version or image digest that the registry knows.
func (d *Desk) checkProduct(ctx context.Context, p string) error {
	if p == "" {
		return errors.New("empty product")
	}
	if len(p) > 512 {
		return fmt.Errorf("longer than 512 characters")
	}
	if strings.HasPrefix(p, "sha256:") {
		if !ValidDigest(p) {
			return fmt.Errorf("%q is not a sha256 digest", p)
		}
		return nil
	}
	name, version, hasVersion := strings.Cut(p, "@")
	if !strings.Contains(name, "/") {
		return fmt.Errorf("%q is not a server name (namespace/name), name@version or sha256 digest", p)
	}
	if hasVersion {
		if _, err := d.store.GetVersion(ctx, Key{Name: name, Version: version}); err != nil {
			if errors.Is(err, ErrNotFound) {
				return fmt.Errorf("%s@%s is not a version in this registry", name, version)
			}
			return err
		}
		return nil
	}
	page, _, err := d.store.ListVersionsPage(ctx, ListQuery{Limit: 1, After: &Key{Name: name}, Statuses: allStatuses})
	if err != nil {
		return err
	}
	// After is exclusive: a version "" never exists, so the first of name comes next.
	if len(page) == 0 || page[0].Name != name {
		return fmt.Errorf("%s is not a server in this registry", name)
	}
	return nil
}

var allStatuses = []Status{StatusPublished, StatusPendingReview, StatusRejected, StatusQuarantined, StatusDeprecated, StatusDeleted}

// inScope reports whether a statement's product id lies within the scope.
func inScope(id string, scope []string) bool {
	if dec, err := url.PathUnescape(id); err == nil {
		id = dec
	}
	for _, s := range scope {
		switch {
		case id == s:
			return true
		case strings.HasPrefix(s, "sha256:") && strings.HasSuffix(id, "@"+s):
			return true // an image reference pinned by the digest in scope
		case !strings.Contains(s, "@") && strings.HasPrefix(id, s+"@"):
			return true // a version of a server in scope
		}
	}
	return false
}
