package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"
)

func chainOf(t *testing.T, n int) []AuditEvent {
	t.Helper()
	var out []AuditEvent
	var prev *AuditEvent
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 123456789, time.UTC)
	for i := 0; i < n; i++ {
		e, err := SealAudit(prev, AuditEvent{
			Time: t0.Add(time.Duration(i) * time.Minute), Type: AuditPublishDecision, Actor: "iss|sub",
			Subject: fmt.Sprintf("io.github.acme/w@1.0.%d", i), Data: json.RawMessage(fmt.Sprintf(`{"decision":"published", "n":%d}`, i)),
		})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
		prev = &out[len(out)-1]
	}
	return out
}

func TestAuditChainVerifies(t *testing.T) {
	c := chainOf(t, 5)
	if err := VerifyChain(c); err != nil {
		t.Fatalf("intact chain: %v", err)
	}
	if c[0].Prev != GenesisHash || c[1].Prev != c[0].Hash || c[4].Seq != 5 {
		t.Fatalf("links: %+v", c)
	}
	if string(c[0].Data) != `{"decision":"published","n":0}` {
		t.Fatalf("data not canonical: %s", c[0].Data)
	}
	if c[0].Time.Nanosecond()%1000 != 0 {
		t.Fatalf("time not truncated to µs: %v", c[0].Time)
	}
}

func TestAuditChainDetectsTampering(t *testing.T) {
	cases := []struct {
		name    string
		tamper  func([]AuditEvent) []AuditEvent
		seq     int64
		reason  string
		expHead func([]AuditEvent) string
	}{
		{"changed data", func(c []AuditEvent) []AuditEvent {
			c[2].Data = json.RawMessage(`{"decision":"rejected","n":2}`)
			return c
		}, 3, ChainChanged, nil},
		{"changed actor", func(c []AuditEvent) []AuditEvent { c[0].Actor = "someone-else"; return c }, 1, ChainChanged, nil},
		{"changed time", func(c []AuditEvent) []AuditEvent { c[4].Time = c[4].Time.Add(time.Second); return c }, 5, ChainChanged, nil},
		{"changed and rehashed", func(c []AuditEvent) []AuditEvent {
			c[1].Subject = "io.github.evil/x@1"
			c[1].Hash, _ = HashAudit(c[1])
			return c
		}, 3, ChainRemoved, nil},
		{"removed middle", func(c []AuditEvent) []AuditEvent { return append(c[:2], c[3:]...) }, 3, ChainRemoved, nil},
		{"removed first", func(c []AuditEvent) []AuditEvent { return c[1:] }, 1, ChainRemoved, nil},
		{"removed and renumbered", func(c []AuditEvent) []AuditEvent {
			c = append(c[:2], c[3:]...)
			for i := range c {
				c[i].Seq = int64(i + 1)
			}
			return c
		}, 3, ChainChanged, nil},
		{"reordered", func(c []AuditEvent) []AuditEvent { c[1], c[2] = c[2], c[1]; return c }, 2, ChainRemoved, nil},
		{"reordered with seqs swapped", func(c []AuditEvent) []AuditEvent {
			c[1], c[2] = c[2], c[1]
			c[1].Seq, c[2].Seq = 2, 3
			return c
		}, 2, ChainChanged, nil},
		{"duplicated", func(c []AuditEvent) []AuditEvent { return append(c[:3], c[2:]...) }, 4, ChainBadSeq, nil},
		{"truncated tail", func(c []AuditEvent) []AuditEvent { return c[:3] }, 3, ChainTruncated,
			func(c []AuditEvent) string { return c[4].Hash }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			orig := chainOf(t, 5)
			head := ""
			if tc.expHead != nil {
				head = tc.expHead(orig)
			}
			c := tc.tamper(append([]AuditEvent(nil), orig...))
			var v ChainVerifier
			var err error
			for _, e := range c {
				if err = v.Next(e); err != nil {
					break
				}
			}
			if err == nil {
				err = v.Finish(head)
			}
			var ce *ChainError
			if !errors.As(err, &ce) || !errors.Is(err, ErrAuditChain) {
				t.Fatalf("want *ChainError, got %v", err)
			}
			if ce.Seq != tc.seq || ce.Reason != tc.reason {
				t.Fatalf("got break at %d (%s): %v; want %d (%s)", ce.Seq, ce.Reason, err, tc.seq, tc.reason)
			}
		})
	}
}

func TestSealAuditRejects(t *testing.T) {
	for _, tc := range []struct {
		e    AuditEvent
		want string
	}{
		{AuditEvent{Data: json.RawMessage(`{}`)}, "empty type"},
		{AuditEvent{Type: "x", Data: json.RawMessage(`[1]`)}, "not a JSON object"},
		{AuditEvent{Type: "x", Data: json.RawMessage(`{"a":`)}, "not a JSON object"},
	} {
		_, err := SealAudit(nil, tc.e)
		if err == nil || !errors.Is(err, ErrInvalid) || !contains(err.Error(), tc.want) {
			t.Errorf("SealAudit(%+v) = %v, want %q", tc.e, err, tc.want)
		}
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
