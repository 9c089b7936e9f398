package api

import (
	"bytes"
	"encoding/json"
	"time"

	apiv0 "github.com/modelcontextprotocol/registry/pkg/api/v0"
)

// The appenders below write, byte for byte, what encoding/json writes for the official
// metadata and the links of a version, without reflection: every list and version response
// carries both once per version, and marshalling them was a tenth of a cache miss's CPU
// (TestAppendersMatchEncodingJSON holds them to encoding/json's output).

// appendOfficial appends json.Marshal(m).
func appendOfficial(buf *bytes.Buffer, m apiv0.RegistryExtensions) error {
	if !plainTime(m.StatusChangedAt) || !plainTime(m.PublishedAt) || !plainTime(m.UpdatedAt) {
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		buf.Write(b)
		return nil
	}
	buf.WriteString(`{"status":`)
	appendJSONString(buf, string(m.Status))
	buf.WriteString(`,"statusChangedAt":`)
	appendTime(buf, m.StatusChangedAt)
	if m.StatusMessage != nil {
		buf.WriteString(`,"statusMessage":`)
		appendJSONString(buf, *m.StatusMessage)
	}
	buf.WriteString(`,"publishedAt":`)
	appendTime(buf, m.PublishedAt)
	buf.WriteString(`,"updatedAt":`)
	appendTime(buf, m.UpdatedAt)
	if m.IsLatest {
		buf.WriteString(`,"isLatest":true}`)
	} else {
		buf.WriteString(`,"isLatest":false}`)
	}
	return nil
}

// plainTime reports whether t's JSON form is its RFC 3339 text (encoding/json refuses
// years outside 0..9999; the fallback reports that error).
func plainTime(t time.Time) bool { return t.Year() >= 0 && t.Year() <= 9999 }

func appendTime(buf *bytes.Buffer, t time.Time) {
	var tmp [48]byte
	b := append(tmp[:0], '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	buf.Write(append(b, '"'))
}

// appendLinks appends json.Marshal(Links(name, version)).
func appendLinks(buf *bytes.Buffer, name, version string) {
	base := linkBase(name, version)
	buf.WriteByte('{')
	for i, l := range versionLinks {
		if i > 0 {
			buf.WriteByte(',')
		}
		appendJSONString(buf, l.key)
		buf.WriteByte(':')
		appendJSONString(buf, l.url(base))
	}
	buf.WriteByte('}')
}

// appendJSONString appends s as encoding/json writes a string: printable ASCII other than
// the quote, the backslash and <, >, & (which it escapes for HTML) as is; anything else
// through encoding/json itself.
func appendJSONString(buf *bytes.Buffer, s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s) // a string always marshals
			buf.Write(b)
			return
		}
	}
	buf.WriteByte('"')
	buf.WriteString(s)
	buf.WriteByte('"')
}
