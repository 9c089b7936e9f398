package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// notPublished explains a 404 for name@version from a registry's read API: with a token
// that may read the review API (VETTED_TOKEN or --token), it says the version's status
// (pending_review, rejected, quarantined, …) and why; without, what the status may be and how
// to learn it.
func notPublished(ctx context.Context, registryURL, token, name, version string) error {
	base := fmt.Sprintf("%s@%s is not published on %s", name, version, registryURL)
	if token == "" {
		return fmt.Errorf("%s (it may not exist, or wait for review, or have been rejected or quarantined: with a reviewer token in VETTED_TOKEN the status is shown)", base)
	}
	c, err := newRegClient(registryURL, token)
	if err != nil {
		return fmt.Errorf("%s", base)
	}
	var v struct {
		Status string `json:"status"`
		Why    []struct {
			Check  string `json:"check"`
			Reason string `json:"reason"`
		} `json:"why"`
	}
	err = c.getJSON(ctx, "/v0.1/x/dev.vetted/review/servers/"+escapeSegment(name)+"/versions/"+escapeSegment(version), &v)
	switch {
	case err == nil && v.Status != "":
		var why []string
		for _, w := range v.Why {
			why = append(why, w.Check+": "+w.Reason)
		}
		msg := fmt.Sprintf("%s: its status is %s", base, v.Status)
		if len(why) > 0 {
			msg += " (" + strings.Join(why, "; ") + ")"
		}
		return fmt.Errorf("%s", msg)
	case isStatus(err, http.StatusNotFound):
		return fmt.Errorf("%s: the registry has no such version (rejected publishes are kept only in the audit log)", base)
	}
	return fmt.Errorf("%s (its status could not be read with the given token: %v)", base, err)
}
