package intoto

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// MaxDepth bounds the nesting of any JSON document parsed here.
const MaxDepth = 128

// ErrMalformed is wrapped by every error for input that is not what it claims to be.
var ErrMalformed = errors.New("malformed document")

// CheckStrictJSON reports an error unless data is exactly one JSON value with no duplicate
// object keys and nesting no deeper than MaxDepth. Duplicate keys are rejected because two
// parsers may pick different values for them (the classic signed-one-thing, used-another bug).
func CheckStrictJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := walkValue(dec, "$", 0); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: trailing data after the JSON value", ErrMalformed)
	}
	return nil
}

func walkValue(dec *json.Decoder, path string, depth int) error {
	if depth > MaxDepth {
		return fmt.Errorf("%s: nesting deeper than %d", path, MaxDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			seen := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return fmt.Errorf("%s: %w", path, err)
				}
				key, ok := kt.(string)
				if !ok {
					return fmt.Errorf("%s: object key is not a string", path)
				}
				if seen[key] {
					return fmt.Errorf("%s: duplicate key %q", path, key)
				}
				seen[key] = true
				if err := walkValue(dec, path+"."+key, depth+1); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
		case '[':
			for i := 0; dec.More(); i++ {
				if err := walkValue(dec, path+"["+strconv.Itoa(i)+"]", depth+1); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
		default:
			return fmt.Errorf("%s: unexpected %q", path, t)
		}
	}
	return nil
}
