package intoto

import (
	"encoding/json"
	"fmt"
	"regexp"
)

// SimpleSigningType is the critical.type of a cosign simplesigning payload.
const SimpleSigningType = "cosign container image signature"

// SimpleSigning is cosign's legacy signature payload: the signed claim that an image with a
// given manifest digest is signed.
type SimpleSigning struct {
	Critical struct {
		Identity struct {
			DockerReference string `json:"docker-reference"`
		} `json:"identity"`
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
	Optional map[string]any `json:"optional"`
}

var digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// ParseSimpleSigning parses a simplesigning payload strictly. The payload must name a
// sha256 manifest digest; callers compare it with the image digest.
func ParseSimpleSigning(data []byte) (*SimpleSigning, error) {
	if err := CheckStrictJSON(data); err != nil {
		return nil, fmt.Errorf("simplesigning: %w", err)
	}
	var s SimpleSigning
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("simplesigning: %w: %w", ErrMalformed, err)
	}
	if s.Critical.Type != SimpleSigningType {
		return nil, fmt.Errorf("simplesigning: %w: critical.type %q", ErrMalformed, s.Critical.Type)
	}
	if !digestRE.MatchString(s.Critical.Image.DockerManifestDigest) {
		return nil, fmt.Errorf("simplesigning: %w: docker-manifest-digest %q is not a sha256 digest", ErrMalformed, s.Critical.Image.DockerManifestDigest)
	}
	return &s, nil
}
