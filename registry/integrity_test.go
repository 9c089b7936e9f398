package registry

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// A version created before seals existed is checked against what its publish event did
// record: the content digest and the pins.
func TestCheckSealedLegacyEvent(t *testing.T) {
	raw := server("1.0.0", "ghcr.io/acme/weather:1")
	cd, err := CanonicalContentDigest(raw)
	if err != nil {
		t.Fatal(err)
	}
	pinned := "ghcr.io/acme/weather@" + digestA
	served, err := legacyPinnedServerJSON(raw, map[int]string{0: pinned})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(map[string]any{"decision": DecisionPublished, "contentDigest": cd,
		"packages": []PinnedPackage{{Index: 0, Identifier: "ghcr.io/acme/weather:1", Digest: digestA, Pinned: pinned}}})
	v := Version{Name: "io.github.acme/weather", Version: "1.0.0", ServerJSON: raw, Served: served, ContentDigest: cd,
		Sealed: &AuditEvent{Seq: 7, Type: AuditPublishDecision, Subject: "io.github.acme/weather@1.0.0", Data: data}}
	if err := CheckSealed(v); err != nil {
		t.Fatalf("intact legacy version: %v", err)
	}
	cases := map[string]struct {
		edit   func(v *Version)
		reason string
	}{
		"served swapped": {func(v *Version) {
			v.Served = []byte(strings.Replace(string(v.Served), pinned, "ghcr.io/evil/x@"+digestA, 1))
		}, "differs from the server.json pinned as recorded"},
		"server.json edited": {func(v *Version) {
			v.ServerJSON = []byte(strings.Replace(string(v.ServerJSON), "Weather", "Evil", 1))
		}, "no longer hashes to the recorded content digest"},
		"rejection event": {func(v *Version) {
			e := *v.Sealed
			e.Data = json.RawMessage(`{"decision":"rejected","contentDigest":"` + cd + `"}`)
			v.Sealed = &e
		}, "did not create this version"},
		"other subject": {func(v *Version) {
			e := *v.Sealed
			e.Subject = "io.github.acme/weather@2.0.0"
			v.Sealed = &e
		}, "did not create this version"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			w := v
			c.edit(&w)
			var ie *IntegrityError
			if err := CheckSealed(w); !errors.As(err, &ie) || !errors.Is(err, ErrIntegrity) || !strings.Contains(ie.Reason, c.reason) || ie.Seq != 7 {
				t.Fatalf("got %v; want an integrity error saying %q", err, c.reason)
			}
		})
	}
}

// WithSeal keeps the caller's fields and refuses an event that records another content
// digest than the version's.
func TestWithSeal(t *testing.T) {
	v := Version{Name: "a/b", Version: "1", Status: StatusPublished, ServerJSON: []byte(`{}`), ContentDigest: "sha256:x"}
	e, err := WithSeal(AuditEvent{Type: AuditPublishDecision, Data: json.RawMessage(`{"decision":"published","checks":[]}`)}, SealOf(v, nil))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(e.Data, &got); err != nil || got["decision"] != "published" || got["servedDigest"] != Digest([]byte(`{}`)) ||
		got["status"] != "published" || got["contentDigest"] != "sha256:x" {
		t.Fatalf("sealed data: %s %v", e.Data, err)
	}
	if _, err := WithSeal(AuditEvent{Type: AuditPublishDecision, Data: json.RawMessage(`{"contentDigest":"sha256:y"}`)}, SealOf(v, nil)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("contradicting digest: %v", err)
	}
}
