package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"

	apiv0 "github.com/modelcontextprotocol/registry/pkg/api/v0"
	"github.com/modelcontextprotocol/registry/pkg/model"

	"github.com/vetted-dev/vetted/registry"
)

// Keys of the _meta object of a served version.
const (
	// OfficialMetaKey is the official registry's key; its value has the official shape.
	OfficialMetaKey = "io.modelcontextprotocol.registry/official"
	// VettedMetaKey is Vetted's own key, reserved for verification results.
	VettedMetaKey = "dev.vetted/verification"
)

// entry is a response body computed once, with its strong ETag.
type entry struct {
	body []byte
	etag string
}

func newEntry(body []byte) *entry {
	if cap(body)-len(body) > len(body)/8 {
		// A grown buffer keeps up to as much again unused; the cache counts capacity.
		body = bytes.Clone(body)
	}
	sum := sha256.Sum256(body)
	return &entry{body: body, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
}

// appendVersion appends the wire form of one published version:
// {"server":<served server.json>,"_meta":{official…, vetted…}}.
func appendVersion(buf *bytes.Buffer, v registry.Version) error {
	served := v.Served
	if len(served) == 0 {
		served = v.ServerJSON
	}
	buf.WriteString(`{"server":`)
	if err := json.Compact(buf, served); err != nil {
		return fmt.Errorf("stored server.json of %s@%s is not valid JSON: %w", v.Name, v.Version, err)
	}
	buf.WriteString(`,"_meta":{"` + OfficialMetaKey + `":`)
	if err := appendOfficial(buf, officialMeta(v)); err != nil {
		return fmt.Errorf("official metadata of %s@%s: %w", v.Name, v.Version, err)
	}
	if len(bytes.TrimSpace(v.Vetted)) > 0 {
		buf.WriteString(`,"` + VettedMetaKey + `":`)
		if err := appendVettedMeta(buf, v.Name, v.Version, v.Vetted); err != nil {
			return fmt.Errorf("stored verification metadata of %s@%s: %w", v.Name, v.Version, err)
		}
	}
	buf.WriteString(`}}`)
	return nil
}

// appendVettedMeta appends the stored verification object of name@version with its links
// (Links) added: the links are the API's, rendered at response time, not stored.
func appendVettedMeta(buf *bytes.Buffer, name, version string, stored []byte) error {
	start := buf.Len()
	if err := json.Compact(buf, stored); err != nil {
		return fmt.Errorf("not valid JSON: %w", err)
	}
	obj := buf.Bytes()[start:]
	if len(obj) < 2 || obj[0] != '{' || obj[len(obj)-1] != '}' {
		return nil // not an object: served as stored
	}
	buf.Truncate(buf.Len() - 1)
	if len(obj) > 2 {
		buf.WriteByte(',')
	}
	buf.WriteString(`"links":`)
	appendLinks(buf, name, version)
	buf.WriteByte('}')
	return nil
}

// vettedMetaWithLinks returns the stored verification object of name@version as served
// (with its links); nil when nothing is stored.
func vettedMetaWithLinks(name, version string, stored []byte) json.RawMessage {
	if len(bytes.TrimSpace(stored)) == 0 {
		return nil
	}
	var buf bytes.Buffer
	if err := appendVettedMeta(&buf, name, version, stored); err != nil {
		return stored
	}
	return buf.Bytes()
}

// officialMeta is what the official registry reports for a version: published is
// "active"; a version that stopped being served (only shown with include_deleted) is
// "deprecated" or "deleted" (quarantined included), with the public class of why as
// statusMessage — never a reviewer's own words. A status change moves UpdatedAt, so an
// updated_since sync sees it.
func officialMeta(v registry.Version) apiv0.RegistryExtensions {
	st, _ := registry.OfficialStatus(v.Status)
	if st == "" {
		st = registry.OfficialDeleted // never served; callers do not render these
	}
	m := apiv0.RegistryExtensions{
		Status:          model.Status(st),
		StatusChangedAt: v.UpdatedAt.UTC(),
		PublishedAt:     v.PublishedAt.UTC(),
		UpdatedAt:       v.UpdatedAt.UTC(),
		IsLatest:        v.IsLatest,
	}
	if msg := registry.StatusMessage(v.Status, v.StatusReason); msg != "" {
		m.StatusMessage = &msg
	}
	return m
}

// renderBufs holds scratch buffers: a body is rendered into one, then copied out at its
// size, so that rendering neither regrows a buffer (the links and official metadata make a
// body longer than what is stored) nor hands the cache a buffer with unused capacity.
var renderBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledRender is the largest scratch buffer kept for reuse.
const maxPooledRender = 1 << 20

func scratch() *bytes.Buffer { return renderBufs.Get().(*bytes.Buffer) }

// done returns buf to the pool (unless it grew past maxPooledRender).
func done(buf *bytes.Buffer) {
	if buf.Cap() <= maxPooledRender {
		buf.Reset()
		renderBufs.Put(buf)
	}
}

func renderVersion(v registry.Version) (*entry, error) {
	buf := scratch()
	defer done(buf)
	if err := appendVersion(buf, v); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return newEntry(bytes.Clone(buf.Bytes())), nil
}

// renderList renders a ServerList: {"servers":[…],"metadata":{"nextCursor":…,"count":n}}.
func renderList(vs []registry.Version, nextCursor string) (*entry, error) {
	buf := scratch()
	defer done(buf)
	buf.WriteString(`{"servers":[`)
	for i, v := range vs {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := appendVersion(buf, v); err != nil {
			return nil, err
		}
	}
	buf.WriteString(`],"metadata":`)
	md, err := json.Marshal(apiv0.Metadata{NextCursor: nextCursor, Count: len(vs)})
	if err != nil {
		return nil, err
	}
	buf.Write(md)
	buf.WriteString("}\n")
	return newEntry(bytes.Clone(buf.Bytes())), nil
}
