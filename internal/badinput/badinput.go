package badinput

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Case is one malformed request and the answer it must get.
type Case struct {
	Name string `json:"name"`
	// Finding names the issue 17 finding the case reproduces, if any.
	Finding string `json:"finding,omitempty"`
	Method  string `json:"method"`
	// Target is the request target exactly as sent: path and query, not normalized.
	Target string            `json:"target"`
	Header map[string]string `json:"header,omitempty"`
	// Token is the caller: "" none, "publisher" (io.github.acme/*), "other"
	// (io.github.other/*), "reviewer", "admin", or "forged:KIND" (a token the replay signs
	// with the registry's own key but with a defect: see Forge kinds).
	Token string `json:"token,omitempty"`
	Body  string `json:"body,omitempty"`
	// BodyBase64 is a body that is not valid UTF-8.
	BodyBase64 string `json:"bodyBase64,omitempty"`
	// Repeat builds a large body: Prefix, Count copies of Item joined by Sep, Suffix; "%d" in
	// Item is the copy's index.
	Repeat *Repeat `json:"repeat,omitempty"`
	// Status lists the statuses accepted.
	Status []int `json:"status"`
	// Want is text the answer must contain (the key or parameter it names).
	Want string `json:"want,omitempty"`
	// Skip, when set, says why the case is not replayed yet (a fix not on main).
	Skip string `json:"skip,omitempty"`
}

// Repeat describes a generated body.
type Repeat struct {
	Prefix string `json:"prefix"`
	Item   string `json:"item"`
	Sep    string `json:"sep"`
	Count  int    `json:"count"`
	Suffix string `json:"suffix"`
}

// BodyBytes is the body the case sends.
func (c Case) BodyBytes() ([]byte, error) {
	switch {
	case c.Repeat != nil:
		var b bytes.Buffer
		b.WriteString(c.Repeat.Prefix)
		for i := 0; i < c.Repeat.Count; i++ {
			if i > 0 {
				b.WriteString(c.Repeat.Sep)
			}
			if strings.Contains(c.Repeat.Item, "%d") {
				fmt.Fprintf(&b, c.Repeat.Item, i)
			} else {
				b.WriteString(c.Repeat.Item)
			}
		}
		b.WriteString(c.Repeat.Suffix)
		return b.Bytes(), nil
	case c.BodyBase64 != "":
		return base64.StdEncoding.DecodeString(c.BodyBase64)
	}
	return []byte(c.Body), nil
}

// Write writes cases as JSON lines.
func Write(w io.Writer, cases []Case) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, c := range cases {
		if err := enc.Encode(c); err != nil {
			return err
		}
	}
	return nil
}

// Read reads JSON lines of cases, refusing unknown fields and duplicate names.
func Read(r io.Reader) ([]Case, error) {
	var out []Case
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		var c Case
		if err := dec.Decode(&c); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if c.Name == "" || c.Method == "" || c.Target == "" || len(c.Status) == 0 {
			return nil, fmt.Errorf("line %d: name, method, target and status are required", n)
		}
		if seen[c.Name] {
			return nil, fmt.Errorf("line %d: case %q twice", n, c.Name)
		}
		seen[c.Name] = true
		out = append(out, c)
	}
	return out, sc.Err()
}
