package npm

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// ErrIntegrity is wrapped when a tarball does not match its integrity string, or the string
// is unusable.
var ErrIntegrity = errors.New("integrity")

// Digests are a tarball's digests, lowercase hex.
type Digests struct {
	SHA512 string `json:"sha512"`
	SHA256 string `json:"sha256"`
}

// Sum computes a tarball's digests.
func Sum(tarball []byte) Digests {
	s512 := sha512.Sum512(tarball)
	s256 := sha256.Sum256(tarball)
	return Digests{SHA512: hex.EncodeToString(s512[:]), SHA256: hex.EncodeToString(s256[:])}
}

// Integrity is the Subresource Integrity string of a sha512 digest, as npm writes it.
func Integrity(sha512Hex string) string {
	b, err := hex.DecodeString(sha512Hex)
	if err != nil {
		return ""
	}
	return "sha512-" + base64.StdEncoding.EncodeToString(b)
}

// ParseIntegrity returns the sha512 digest an integrity string ("sha512-<base64>", possibly
// among other space-separated hashes) requires. Weaker algorithms are ignored; at least one
// sha512 entry is required and several must agree.
func ParseIntegrity(s string) ([]byte, error) {
	if len(s) > 4096 {
		return nil, fmt.Errorf("%w: integrity string longer than 4096 bytes", ErrIntegrity)
	}
	var want []byte
	for _, f := range strings.Fields(s) {
		alg, val, ok := strings.Cut(f, "-")
		if !ok || alg != "sha512" {
			continue
		}
		if i := strings.IndexByte(val, '?'); i >= 0 {
			val = val[:i] // SRI options are not used by npm
		}
		d, err := base64.StdEncoding.DecodeString(val)
		if err != nil || len(d) != sha512.Size {
			return nil, fmt.Errorf("%w: %q is not a sha512 digest in base64", ErrIntegrity, f)
		}
		if want != nil && !bytes.Equal(want, d) {
			return nil, fmt.Errorf("%w: integrity string names two different sha512 digests", ErrIntegrity)
		}
		want = d
	}
	if want == nil {
		return nil, fmt.Errorf("%w: %q has no sha512 digest (sha1 shasums are not accepted)", ErrIntegrity, s)
	}
	return want, nil
}

// CheckIntegrity verifies tarball against an integrity string byte for byte and returns its
// digests.
func CheckIntegrity(tarball []byte, integrity string) (Digests, error) {
	want, err := ParseIntegrity(integrity)
	if err != nil {
		return Digests{}, err
	}
	d := Sum(tarball)
	if got, _ := hex.DecodeString(d.SHA512); !bytes.Equal(got, want) {
		return Digests{}, fmt.Errorf("%w: tarball sha512 is %s, the registry's integrity %s says %s",
			ErrIntegrity, Integrity(d.SHA512), integrity, "sha512-"+base64.StdEncoding.EncodeToString(want))
	}
	return d, nil
}
