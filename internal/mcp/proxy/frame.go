package proxy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrFrame is wrapped by every error of ParseFrame and of the tools/list filter.
var ErrFrame = errors.New("malformed JSON-RPC frame")

// Kind says what a frame is.
type Kind int

// Frame kinds.
const (
	KindRequest Kind = iota + 1
	KindNotification
	KindResponse
	KindBatch
)

// Frame is one JSON-RPC message (or a batch) as it crossed the wire. Raw is never modified;
// the other fields are read from it strictly: member names are exact, and a member that
// appears twice, or also in another letter case, makes the frame malformed (peers disagree
// about which copy wins, and a proxy must read a frame the way its receiver will).
type Frame struct {
	Raw  []byte
	Kind Kind
	// ID is the raw id of a request or response (nil for a notification).
	ID json.RawMessage
	// Method of a request or notification.
	Method string
	// Params, Result and Error are the raw members (nil when absent).
	Params, Result, Error json.RawMessage
	// Elems are the messages of a batch.
	Elems []*Frame
}

// ParseFrame reads one frame strictly. It never modifies data.
func ParseFrame(data []byte) (*Frame, error) {
	t := bytes.TrimSpace(data)
	if len(t) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrFrame)
	}
	if t[0] == '[' {
		elems, err := arrayElems(t)
		if err != nil {
			return nil, err
		}
		if len(elems) == 0 {
			return nil, fmt.Errorf("%w: empty batch", ErrFrame)
		}
		f := &Frame{Raw: data, Kind: KindBatch}
		for i, e := range elems {
			if bytes.HasPrefix(bytes.TrimSpace(e), []byte("[")) {
				return nil, fmt.Errorf("%w: batch element %d is a batch", ErrFrame, i)
			}
			ef, err := ParseFrame(e)
			if err != nil {
				return nil, fmt.Errorf("batch element %d: %w", i, err)
			}
			f.Elems = append(f.Elems, ef)
		}
		return f, nil
	}
	ms, err := members(t, "jsonrpc", "id", "method", "params", "result", "error")
	if err != nil {
		return nil, err
	}
	f := &Frame{Raw: data, ID: ms["id"], Params: ms["params"], Result: ms["result"], Error: ms["error"]}
	var version string
	if err := json.Unmarshal(ms["jsonrpc"], &version); err != nil || version != "2.0" {
		return nil, fmt.Errorf("%w: \"jsonrpc\" must be \"2.0\"", ErrFrame)
	}
	if f.ID != nil {
		if _, err := idKey(f.ID); err != nil {
			return nil, err
		}
	}
	switch {
	case ms["method"] != nil:
		if err := json.Unmarshal(ms["method"], &f.Method); err != nil || f.Method == "" {
			return nil, fmt.Errorf("%w: \"method\" must be a non-empty string", ErrFrame)
		}
		if f.Result != nil || f.Error != nil {
			return nil, fmt.Errorf("%w: a request carries no result or error", ErrFrame)
		}
		f.Kind = KindNotification
		if f.ID != nil {
			f.Kind = KindRequest
		}
	case f.Result != nil || f.Error != nil:
		if f.Result != nil && f.Error != nil {
			return nil, fmt.Errorf("%w: a response has either a result or an error", ErrFrame)
		}
		if f.ID == nil || f.Params != nil {
			return nil, fmt.Errorf("%w: a response needs an id and has no params", ErrFrame)
		}
		f.Kind = KindResponse
	default:
		return nil, fmt.Errorf("%w: neither a method nor a result or error", ErrFrame)
	}
	return f, nil
}

// idKey maps a JSON-RPC id to a comparable key: ids that peers would treat as equal
// (1 and 1.0) get the same key.
func idKey(id json.RawMessage) (string, error) {
	t := bytes.TrimSpace(id)
	switch {
	case len(t) > 0 && t[0] == '"':
		var s string
		if err := json.Unmarshal(t, &s); err != nil {
			return "", fmt.Errorf("%w: id: %v", ErrFrame, err)
		}
		return "s:" + s, nil
	case string(t) == "null":
		return "null", nil
	default:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil || !json.Valid(t) {
			return "", fmt.Errorf("%w: id must be a string, a number or null", ErrFrame)
		}
		return "n:" + strconv.FormatFloat(f, 'g', -1, 64), nil
	}
}

// members reads a JSON object and returns the raw values of the named members. Any member
// (named or not) that appears twice, and any case variant of a named member, is an error.
func members(obj []byte, names ...string) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFrame, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("%w: want a JSON object", ErrFrame)
	}
	seen := map[string]bool{}
	out := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrFrame, err)
		}
		key, _ := tok.(string)
		if seen[key] {
			return nil, fmt.Errorf("%w: member %q appears twice", ErrFrame, key)
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("%w: member %q: %v", ErrFrame, key, err)
		}
		for _, n := range names {
			switch {
			case key == n:
				out[n] = raw
			case strings.EqualFold(key, n):
				return nil, fmt.Errorf("%w: member %q is a case variant of %q", ErrFrame, key, n)
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFrame, err)
	}
	if dec.More() || trailing(dec) {
		return nil, fmt.Errorf("%w: data after the object", ErrFrame)
	}
	return out, nil
}

func trailing(dec *json.Decoder) bool {
	_, err := dec.Token()
	return err == nil
}

// span is a member's or element's value as byte offsets into the parsed text.
type span struct{ from, to int }

// memberSpans returns the byte span of each named member's value inside obj (strictly, as
// members does).
func memberSpans(obj []byte, names ...string) (map[string]span, error) {
	ms, err := members(obj, names...)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(obj))
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFrame, err)
	}
	out := map[string]span{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrFrame, err)
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrFrame, err)
		}
		if _, ok := ms[key]; ok {
			end := int(dec.InputOffset())
			out[key] = span{end - len(raw), end}
		}
	}
	return out, nil
}

// arrayElems returns the raw elements of a JSON array, byte for byte.
func arrayElems(arr []byte) ([]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(arr))
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFrame, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, fmt.Errorf("%w: want a JSON array", ErrFrame)
	}
	var out []json.RawMessage
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("%w: element %d: %v", ErrFrame, len(out), err)
		}
		end := int(dec.InputOffset())
		out = append(out, json.RawMessage(arr[end-len(raw):end]))
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFrame, err)
	}
	if trailing(dec) {
		return nil, fmt.Errorf("%w: data after the array", ErrFrame)
	}
	return out, nil
}

// callName returns the tool name of a tools/call request's params.
func callName(params json.RawMessage) (string, error) {
	if params == nil {
		return "", fmt.Errorf("%w: tools/call without params", ErrFrame)
	}
	ms, err := members(params, "name")
	if err != nil {
		return "", fmt.Errorf("tools/call params: %w", err)
	}
	var name string
	if err := json.Unmarshal(ms["name"], &name); err != nil || ms["name"] == nil {
		return "", fmt.Errorf("%w: tools/call params.name must be a string", ErrFrame)
	}
	return name, nil
}

// toolsOf returns the raw tools of a result that has a "tools" member, with the span of
// that member's array inside the frame; ok is false when the result has no such member.
func toolsOf(f *Frame) (tools []json.RawMessage, at span, ok bool, err error) {
	if f.Result == nil || !bytes.HasPrefix(bytes.TrimSpace(f.Result), []byte("{")) {
		return nil, span{}, false, nil
	}
	frameSpans, err := memberSpans(bytes.TrimSpace(f.Raw), "result")
	if err != nil {
		return nil, span{}, false, err
	}
	off := len(f.Raw) - len(bytes.TrimLeft(f.Raw, " \t\r\n"))
	rs := frameSpans["result"]
	result := f.Raw[off+rs.from : off+rs.to]
	spans, err := memberSpans(result, "tools")
	if err != nil {
		return nil, span{}, false, fmt.Errorf("result: %w", err)
	}
	ts, ok := spans["tools"]
	if !ok {
		return nil, span{}, false, nil
	}
	arr := result[ts.from:ts.to]
	if len(arr) == 0 || arr[0] != '[' {
		return nil, span{}, true, fmt.Errorf("%w: result.tools must be an array", ErrFrame)
	}
	tools, err = arrayElems(arr)
	if err != nil {
		return nil, span{}, true, fmt.Errorf("result.tools: %w", err)
	}
	base := off + rs.from
	return tools, span{base + ts.from, base + ts.to}, true, nil
}

// withTools returns f.Raw with the tools array at at replaced by keep (each tool byte for
// byte); everything else in the frame is unchanged.
func withTools(raw []byte, at span, keep []json.RawMessage) []byte {
	var b bytes.Buffer
	b.Grow(len(raw))
	b.Write(raw[:at.from])
	b.WriteByte('[')
	for i, t := range keep {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(t)
	}
	b.WriteByte(']')
	b.Write(raw[at.to:])
	return b.Bytes()
}
