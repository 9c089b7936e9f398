package sigtest

import (
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Registry is go-containerregistry's in-process registry on a loopback httptest server.
type Registry struct {
	Server *httptest.Server
	// Host is host:port.
	Host string
}

// NewRegistry starts a registry; referrers enables the OCI 1.1 referrers API; wrap, when not
// nil, wraps the handler (to make it misbehave).
func NewRegistry(t testing.TB, referrers bool, wrap func(http.Handler) http.Handler) *Registry {
	t.Helper()
	var h http.Handler = registry.New(registry.WithReferrersSupport(referrers), registry.Logger(log.New(io.Discard, "", 0)))
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &Registry{Server: srv, Host: strings.TrimPrefix(srv.URL, "http://")}
}

// Ref returns host/repo:tag.
func (r *Registry) Ref(repo, tagOrDigest string) string {
	sep := ":"
	if strings.HasPrefix(tagOrDigest, "sha256:") {
		sep = "@"
	}
	return r.Host + "/" + repo + sep + tagOrDigest
}

func (r *Registry) repo(t testing.TB, repo string) name.Repository {
	t.Helper()
	rp, err := name.NewRepository(r.Host+"/"+repo, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return rp
}

// PushImage pushes a small random image as repo:tag and returns its digest.
func (r *Registry) PushImage(t testing.TB, repo, tag string) string {
	t.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	return r.Push(t, repo, tag, img)
}

// Push pushes img as repo:tag and returns its digest.
func (r *Registry) Push(t testing.TB, repo, tag string, img v1.Image) string {
	t.Helper()
	ref, err := name.ParseReference(r.Ref(repo, tag), name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// Layer is a blob plus the descriptor fields a manifest gives it.
type Layer struct {
	Data        []byte
	MediaType   string
	Annotations map[string]string
}

type rawManifest struct {
	body []byte
	mt   types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.body, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mt, nil }

type desc struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

// PutManifest uploads layers and a manifest over them to repo under tagOrDigest ("" = by
// digest); subject and artifactType are optional. It returns the manifest digest.
func (r *Registry) PutManifest(t testing.TB, repo, tagOrDigest, artifactType, subject string, layers []Layer, annotations map[string]string) string {
	t.Helper()
	rp := r.repo(t, repo)
	cfg := static.NewLayer([]byte("{}"), "application/vnd.oci.empty.v1+json")
	if err := remote.WriteLayer(rp, cfg); err != nil {
		t.Fatal(err)
	}
	cd, _ := cfg.Digest()
	m := map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        desc{MediaType: "application/vnd.oci.empty.v1+json", Digest: cd.String(), Size: 2},
	}
	if artifactType != "" {
		m["artifactType"] = artifactType
	}
	if len(annotations) > 0 {
		m["annotations"] = annotations
	}
	var ls []desc
	for _, l := range layers {
		sl := static.NewLayer(l.Data, types.MediaType(l.MediaType))
		if err := remote.WriteLayer(rp, sl); err != nil {
			t.Fatal(err)
		}
		d, _ := sl.Digest()
		ls = append(ls, desc{MediaType: l.MediaType, Digest: d.String(), Size: int64(len(l.Data)), Annotations: l.Annotations})
	}
	m["layers"] = ls
	if subject != "" {
		m["subject"] = desc{MediaType: "application/vnd.oci.image.manifest.v1+json", Digest: subject, Size: 1}
	}
	body, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	h, _, _ := v1.SHA256(strings.NewReader(string(body)))
	target := tagOrDigest
	if target == "" {
		target = h.String()
	}
	ref, err := name.ParseReference(r.Ref(repo, target), name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Put(ref, rawManifest{body: body, mt: types.OCIManifestSchema1}); err != nil {
		t.Fatal(err)
	}
	return h.String()
}

// BundleMediaType is the Sigstore bundle v0.3 media type.
const BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"

// AttachBundle attaches a Sigstore bundle to the image as an OCI 1.1 referrer (as cosign
// --new-bundle-format does) and returns the referrer manifest digest.
func (r *Registry) AttachBundle(t testing.TB, repo, subject string, bundleJSON []byte, annotations map[string]string) string {
	t.Helper()
	return r.PutManifest(t, repo, "", BundleMediaType, subject, []Layer{{Data: bundleJSON, MediaType: BundleMediaType}}, annotations)
}

// LegacyTag is cosign's tag for a suffix (".sig", ".att") of digest.
func LegacyTag(digest, suffix string) string {
	return "sha256-" + strings.TrimPrefix(digest, "sha256:") + suffix
}

// AttachSig writes cosign's legacy .sig tag for digest with the given layers.
func (r *Registry) AttachSig(t testing.TB, repo, digest string, layers ...Layer) string {
	t.Helper()
	return r.PutManifest(t, repo, LegacyTag(digest, ".sig"), "", "", layers, nil)
}

// AttachAtt writes cosign's legacy .att tag for digest with the given layers.
func (r *Registry) AttachAtt(t testing.TB, repo, digest string, layers ...Layer) string {
	t.Helper()
	return r.PutManifest(t, repo, LegacyTag(digest, ".att"), "", "", layers, nil)
}

// SigLayer is a cosign simplesigning layer with its signature annotation.
func SigLayer(payload, sig []byte, extra map[string]string) Layer {
	ann := map[string]string{"dev.cosignproject.cosign/signature": b64(sig)}
	for k, v := range extra {
		ann[k] = v
	}
	return Layer{Data: payload, MediaType: "application/vnd.dev.cosign.simplesigning.v1+json", Annotations: ann}
}

// AttLayer is a cosign DSSE attestation layer.
func AttLayer(envelope []byte) Layer {
	return Layer{Data: envelope, MediaType: "application/vnd.dsse.envelope.v1+json", Annotations: map[string]string{
		"dev.cosignproject.cosign/signature": "",
	}}
}
