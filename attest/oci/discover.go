package oci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
)

// Media and artifact types discovery looks for.
const (
	BundleMediaType        = "application/vnd.dev.sigstore.bundle.v0.3+json"
	BundleMediaTypeAlt     = "application/vnd.dev.sigstore.bundle+json;version=0.3"
	SimpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	DSSEMediaType          = "application/vnd.dsse.envelope.v1+json"
	indexMediaType         = "application/vnd.oci.image.index.v1+json"
	emptyMediaType         = "application/vnd.oci.empty.v1+json"
)

// Source says where a candidate was found.
type Source string

// Candidate sources.
const (
	SourceReferrer Source = "referrer" // OCI 1.1 referrers API or referrers tag
	SourceSigTag   Source = "sig-tag"  // cosign legacy sha256-<hex>.sig
	SourceAttTag   Source = "att-tag"  // cosign legacy sha256-<hex>.att
)

// Candidate is one unverified signature or attestation found for an image.
type Candidate struct {
	Source Source `json:"source"`
	// Manifest is the digest of the manifest that carries the candidate.
	Manifest string `json:"manifest"`
	// Layer is the digest of the blob (Data).
	Layer     string `json:"layer"`
	MediaType string `json:"mediaType"`
	// Annotations of the layer (legacy tags carry the signature, certificate and Rekor bundle
	// there) and of the manifest (referrers). Hints only: never evidence on their own.
	Annotations         map[string]string `json:"annotations,omitempty"`
	ManifestAnnotations map[string]string `json:"manifestAnnotations,omitempty"`
	// Data is the digest-checked blob content.
	Data []byte `json:"-"`
}

// Discovery is what was found for one image.
type Discovery struct {
	Candidates []Candidate
	// ReferrersAPI reports whether the registry answered the referrers API (false: the
	// referrers tag fallback was used).
	ReferrersAPI bool
	// Skipped lists candidates dropped for a structural reason (wrong subject, malformed
	// manifest), with the reason.
	Skipped []Skipped
}

// Skipped is a candidate manifest that was not considered.
type Skipped struct {
	Manifest string `json:"manifest"`
	Reason   string `json:"reason"`
}

type descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

type manifest struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	ArtifactType  string            `json:"artifactType,omitempty"`
	Config        *descriptor       `json:"config,omitempty"`
	Layers        []descriptor      `json:"layers,omitempty"`
	Manifests     []descriptor      `json:"manifests,omitempty"`
	Subject       *descriptor       `json:"subject,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

func parseManifest(data []byte) (*manifest, error) {
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%w: manifest is not JSON: %w", ErrRegistry, err)
	}
	if m.SchemaVersion != 2 {
		return nil, fmt.Errorf("%w: manifest schemaVersion %d", ErrRegistry, m.SchemaVersion)
	}
	return &m, nil
}

func isBundleType(t string) bool { return t == BundleMediaType || t == BundleMediaTypeAlt }

// Discover finds the Sigstore bundles and legacy cosign signatures and attestations of img.
// Limits are enforced throughout; breaking one fails the whole discovery with a LimitError,
// since a registry that floods or bloats cannot be trusted to have served the real evidence.
func (c *Client) Discover(ctx context.Context, img *Image) (*Discovery, error) {
	ctx, cancel := context.WithTimeout(ctx, c.limits.Timeout)
	defer cancel()
	d := &Discovery{}
	if err := c.discoverReferrers(ctx, img, d); err != nil {
		return nil, err
	}
	hex := strings.TrimPrefix(img.Digest, "sha256:")
	for _, t := range []struct {
		suffix string
		src    Source
	}{{".sig", SourceSigTag}, {".att", SourceAttTag}} {
		if err := c.discoverTag(ctx, img, "sha256-"+hex+t.suffix, t.src, d); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("oci: discovery: %w", err)
	}
	return d, nil
}

func (c *Client) addCandidate(d *Discovery, cand Candidate) error {
	if len(d.Candidates) >= c.limits.MaxCandidates {
		return &LimitError{What: "signatures and attestations", Limit: int64(c.limits.MaxCandidates), Got: -1, Unit: "candidates"}
	}
	d.Candidates = append(d.Candidates, cand)
	return nil
}

// isBundleCandidate reports whether a referrers index entry may be a Sigstore bundle.
// Registries report a referrer's artifactType from the manifest's artifactType or, failing
// that, its config media type; some report neither usefully. Descriptors whose type is
// unknown are fetched too, and all fetches count against the candidate cap.
func isBundleCandidate(m descriptor) bool {
	return isBundleType(m.ArtifactType) || m.ArtifactType == "" || m.ArtifactType == emptyMediaType
}

// referrers lists the descriptors of img's referrers that may be Sigstore bundles, from the
// referrers API (following its pages) or, for registries without it, the referrers tag.
// api reports whether the API answered.
func (c *Client) referrers(ctx context.Context, img *Image) (descs []descriptor, api bool, err error) {
	repo := img.repo
	what := "referrers of " + img.Digest
	first := fmt.Sprintf("%s://%s/v2/%s/referrers/%s", c.scheme(repo), repo.RegistryStr(), repo.RepositoryStr(), img.Digest)
	data, hdr, err := c.get(ctx, repo, first, []string{indexMediaType}, c.limits.MaxManifestBytes, what)
	if err != nil {
		// Registries without the API answer 404, or 400/405/501 for a route they do not know.
		var se *statusError
		unsupported := errors.As(err, &se) && (se.code == http.StatusBadRequest || se.code == http.StatusMethodNotAllowed ||
			se.code == http.StatusNotAcceptable || se.code == http.StatusNotImplemented)
		if !errors.Is(err, ErrNotFound) && !unsupported {
			return nil, false, err
		}
		// Fallback: the referrers tag schema (sha256-<hex>), written by clients for registries
		// without the API. A tag is one manifest: there are no pages.
		tag := "sha256-" + strings.TrimPrefix(img.Digest, "sha256:")
		data, _, err := c.manifest(ctx, repo, tag)
		if errors.Is(err, ErrNotFound) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		descs, err := c.addReferrerPage(nil, map[string]bool{}, img, data)
		return descs, false, err
	}
	// The API may paginate with Link rel="next" (distribution spec, content discovery). Every
	// page is bounded by MaxManifestBytes, their number by MaxReferrerPages, and the bundle
	// candidates by MaxCandidates across all pages; a next page must stay on the registry.
	cur, err := url.Parse(first)
	if err != nil {
		return nil, true, fmt.Errorf("oci: %s: %w", what, err)
	}
	seen := map[string]bool{}
	for page := 1; ; page++ {
		if descs, err = c.addReferrerPage(descs, seen, img, data); err != nil {
			return nil, true, err
		}
		target, err := nextLink(hdr.Values("Link"))
		if err != nil {
			return nil, true, fmt.Errorf("oci: %s, page %d: %w", what, page, err)
		}
		if target == "" {
			return descs, true, nil
		}
		if page >= c.limits.MaxReferrerPages {
			return nil, true, &LimitError{What: what, Limit: int64(c.limits.MaxReferrerPages), Got: -1, Unit: "pages"}
		}
		if cur, err = resolveNext(cur, target); err != nil {
			return nil, true, fmt.Errorf("oci: %s, page %d: %w", what, page, err)
		}
		if err := ctx.Err(); err != nil {
			return nil, true, fmt.Errorf("oci: discovery: %w", err)
		}
		c.log.Debug("referrers next page", slog.String("digest", img.Digest), slog.Int("page", page+1))
		data, hdr, err = c.get(ctx, repo, cur.String(), []string{indexMediaType}, c.limits.MaxManifestBytes, fmt.Sprintf("%s, page %d", what, page+1))
		if err != nil {
			return nil, true, err
		}
	}
}

// addReferrerPage parses one referrers index (page) and appends its bundle candidates not
// seen before, failing when the candidates so far exceed the candidate cap.
func (c *Client) addReferrerPage(descs []descriptor, seen map[string]bool, img *Image, data []byte) ([]descriptor, error) {
	idx, err := parseManifest(data)
	if err != nil {
		return nil, fmt.Errorf("oci: referrers of %s: %w", img.Digest, err)
	}
	for _, m := range idx.Manifests {
		if !isBundleCandidate(m) || seen[m.Digest] {
			continue
		}
		seen[m.Digest] = true
		descs = append(descs, m)
	}
	if len(descs) > c.limits.MaxCandidates {
		return nil, &LimitError{What: "sigstore bundle referrers of " + img.Digest, Limit: int64(c.limits.MaxCandidates), Got: int64(len(descs)), Unit: "referrers"}
	}
	return descs, nil
}

func (c *Client) discoverReferrers(ctx context.Context, img *Image, d *Discovery) error {
	bundles, api, err := c.referrers(ctx, img)
	if err != nil {
		return err
	}
	d.ReferrersAPI = api
	for _, desc := range bundles {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("oci: discovery: %w", err)
		}
		if desc.Size > c.limits.MaxManifestBytes {
			return &LimitError{What: "referrer manifest " + desc.Digest, Limit: c.limits.MaxManifestBytes, Got: desc.Size, Unit: "bytes"}
		}
		raw, _, err := c.manifest(ctx, img.repo, desc.Digest)
		if errors.Is(err, ErrNotFound) {
			d.Skipped = append(d.Skipped, Skipped{Manifest: desc.Digest, Reason: "listed referrer is missing"})
			continue
		}
		if err != nil {
			return err
		}
		m, err := parseManifest(raw)
		if err != nil {
			d.Skipped = append(d.Skipped, Skipped{Manifest: desc.Digest, Reason: err.Error()})
			continue
		}
		if !isBundleType(m.ArtifactType) && (m.ArtifactType != "" || m.Config == nil || !isBundleType(m.Config.MediaType)) {
			continue // another kind of referrer
		}
		if m.Subject == nil || m.Subject.Digest != img.Digest {
			d.Skipped = append(d.Skipped, Skipped{Manifest: desc.Digest, Reason: "manifest subject is not the image"})
			continue
		}
		var layer *descriptor
		for i := range m.Layers {
			if isBundleType(m.Layers[i].MediaType) {
				layer = &m.Layers[i]
				break
			}
		}
		if layer == nil {
			d.Skipped = append(d.Skipped, Skipped{Manifest: desc.Digest, Reason: "no sigstore bundle layer"})
			continue
		}
		blob, err := c.blob(ctx, img.repo, layer.Digest, layer.Size)
		if err != nil {
			return err
		}
		if err := c.addCandidate(d, Candidate{
			Source: SourceReferrer, Manifest: desc.Digest, Layer: layer.Digest, MediaType: layer.MediaType,
			Annotations: layer.Annotations, ManifestAnnotations: m.Annotations, Data: blob,
		}); err != nil {
			return err
		}
	}
	return nil
}

func (c *Client) discoverTag(ctx context.Context, img *Image, tag string, src Source, d *Discovery) error {
	raw, digest, err := c.manifest(ctx, img.repo, tag)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	m, err := parseManifest(raw)
	if err != nil {
		d.Skipped = append(d.Skipped, Skipped{Manifest: tag, Reason: err.Error()})
		return nil
	}
	if len(m.Layers) > c.limits.MaxLayers {
		return &LimitError{What: "layers of " + tag, Limit: int64(c.limits.MaxLayers), Got: int64(len(m.Layers)), Unit: "layers"}
	}
	want := SimpleSigningMediaType
	if src == SourceAttTag {
		want = DSSEMediaType
	}
	for _, l := range m.Layers {
		if l.MediaType != want {
			d.Skipped = append(d.Skipped, Skipped{Manifest: digest, Reason: fmt.Sprintf("layer %s has media type %q, want %q", l.Digest, l.MediaType, want)})
			continue
		}
		blob, err := c.blob(ctx, img.repo, l.Digest, l.Size)
		if err != nil {
			return err
		}
		if err := c.addCandidate(d, Candidate{
			Source: src, Manifest: digest, Layer: l.Digest, MediaType: l.MediaType, Annotations: l.Annotations, Data: blob,
		}); err != nil {
			return err
		}
	}
	c.log.Debug("tag discovered", slog.String("tag", tag), slog.Int("layers", len(m.Layers)))
	return nil
}
