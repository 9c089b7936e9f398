package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
)

// Bounds of every problem document the API writes (issue 17 item 3: a 39 KB body once got
// a 156 MB answer, because each "unexpected property" error repeated the whole object).
const (
	// MaxProblemErrors is how many errors a problem lists; the rest are counted in a last
	// "and N more" entry.
	MaxProblemErrors = 20
	// MaxProblemBytes bounds the JSON of a problem document.
	MaxProblemBytes = 12 << 10

	maxProblemDetail   = 512 // bytes of detail
	maxProblemMessage  = 200 // bytes of each error's message
	maxProblemLocation = 120 // bytes of each error's location
	maxProblemValue    = 64  // bytes of an echoed string value
	maxProblemChecks   = 40  // checks of a rejection kept when the whole would be too large
)

// moreCount is the Value of the last error of a truncated list: how many were left out.
type moreCount int

func moreDetail(n int) *huma.ErrorDetail {
	return &huma.ErrorDetail{Message: fmt.Sprintf("and %d more", n), Value: moreCount(n)}
}

// boundProblems is a huma transformer: every error body huma writes, on every route, goes
// through it. It never lets a problem document echo a whole value, list more than
// MaxProblemErrors errors or exceed MaxProblemBytes.
func boundProblems(_ huma.Context, _ string, v any) (any, error) {
	switch p := v.(type) {
	case *huma.ErrorModel:
		return capProblem(boundErrorModel(p)), nil
	case *RejectionProblem:
		cp := *p
		cp.ErrorModel = *boundErrorModel(&p.ErrorModel)
		cp.Checks = make([]CheckWire, len(p.Checks))
		for i, c := range p.Checks {
			c.Name, c.Package, c.Reason = clip(c.Name, maxProblemLocation), clip(c.Package, maxProblemLocation), clip(c.Reason, maxProblemMessage)
			cp.Checks[i] = c
		}
		if fits(&cp) {
			return &cp, nil
		}
		if len(cp.Checks) > maxProblemChecks {
			cp.Detail = clip(cp.Detail, maxProblemDetail) + fmt.Sprintf(" (%d of %d checks shown; the audit event records all)", maxProblemChecks, len(cp.Checks))
			cp.Checks = cp.Checks[:maxProblemChecks]
		}
		if fits(&cp) {
			return &cp, nil
		}
		return capProblem(&cp.ErrorModel), nil
	case huma.StatusError:
		if fits(v) {
			return v, nil
		}
		return capProblem(&huma.ErrorModel{Status: p.GetStatus(), Title: http.StatusText(p.GetStatus()),
			Detail: clip(p.Error(), maxProblemDetail)}), nil
	}
	return v, nil
}

// boundErrorModel returns a copy of p with its texts clipped, no whole values and at most
// MaxProblemErrors errors (plus the "and N more" entry).
func boundErrorModel(p *huma.ErrorModel) *huma.ErrorModel {
	cp := *p
	cp.Title, cp.Detail = clip(p.Title, maxProblemLocation), clip(p.Detail, maxProblemDetail)
	errs := p.Errors
	more := 0
	if n := len(errs); n > 0 {
		if m, ok := errs[n-1].Value.(moreCount); ok {
			more, errs = int(m), errs[:n-1]
		}
	}
	if len(errs) > MaxProblemErrors {
		more += len(errs) - MaxProblemErrors
		errs = errs[:MaxProblemErrors]
	}
	cp.Errors = make([]*huma.ErrorDetail, 0, len(errs)+1)
	for _, e := range errs {
		if e == nil {
			continue
		}
		cp.Errors = append(cp.Errors, &huma.ErrorDetail{
			Message: clip(e.Message, maxProblemMessage), Location: clip(e.Location, maxProblemLocation), Value: excerptValue(e.Value),
		})
	}
	if more > 0 {
		cp.Errors = append(cp.Errors, moreDetail(more))
	}
	if len(cp.Errors) == 0 {
		cp.Errors = nil
	}
	return &cp
}

// capProblem drops errors from the end until the document fits MaxProblemBytes.
func capProblem(p *huma.ErrorModel) *huma.ErrorModel {
	for !fits(p) && len(p.Errors) > 0 {
		more := 0
		errs := p.Errors
		if m, ok := errs[len(errs)-1].Value.(moreCount); ok {
			more, errs = int(m), errs[:len(errs)-1]
		}
		keep := len(errs) / 2
		more += len(errs) - keep
		p.Errors = append(errs[:keep:keep], moreDetail(more))
		if keep == 0 {
			p.Errors = nil
		}
	}
	if !fits(p) {
		p.Detail = clip(p.Detail, 64)
	}
	return p
}

func fits(v any) bool {
	b, err := json.Marshal(v)
	return err == nil && len(b) <= MaxProblemBytes
}

// excerptValue is what a problem may echo of a value: scalars, and strings clipped; never
// an object or array.
func excerptValue(v any) any {
	switch t := v.(type) {
	case nil, bool, float64, int, int64, json.Number, moreCount:
		return t
	case string:
		return clip(t, maxProblemValue)
	}
	return nil
}

// clip cuts s to at most n bytes on a rune boundary, marking the cut with "…".
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.ToValidUTF8(s[:cut], "") + "…"
}
