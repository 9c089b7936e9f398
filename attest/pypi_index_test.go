package attest_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/vetted-dev/vetted/attest"
)

// fakeIndex serves one project as a PEP 691 JSON or PEP 503 HTML page, its files and
// PyPI's Integrity API, from the real fixtures.
type fakeIndex struct {
	*httptest.Server
	mu         sync.Mutex
	html       bool
	yanked     string            // filename → yanked
	files      map[string][]byte // served bytes
	listed     map[string]string // filename → sha256 listed (default: of files)
	provenance map[string][]byte // filename → provenance object (404 when absent)
	requests   []string
}

func newFakeIndex(t *testing.T) *fakeIndex {
	t.Helper()
	f := &fakeIndex{files: map[string][]byte{}, listed: map[string]string{}, provenance: map[string][]byte{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeIndex) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.URL.Path)
	switch {
	case r.URL.Path == "/simple/pypi-attestations/":
		if f.html {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<!DOCTYPE html><html><body>\n")
			for name := range f.files {
				yank := ""
				if name == f.yanked {
					yank = ` data-yanked="broken build"`
				}
				fmt.Fprintf(w, "<a href=\"../../files/%s#sha256=%s\"%s>%s</a><br/>\n", name, f.sum(name), yank, name)
			}
			fmt.Fprint(w, "</body></html>")
			return
		}
		type file struct {
			Filename string            `json:"filename"`
			URL      string            `json:"url"`
			Hashes   map[string]string `json:"hashes"`
			Yanked   any               `json:"yanked"`
		}
		page := struct {
			Meta  map[string]string `json:"meta"`
			Name  string            `json:"name"`
			Files []file            `json:"files"`
		}{Meta: map[string]string{"api-version": "1.1"}, Name: "pypi-attestations"}
		for name := range f.files {
			var y any = false
			if name == f.yanked {
				y = "broken build"
			}
			page.Files = append(page.Files, file{Filename: name, URL: "/files/" + name, Hashes: map[string]string{"sha256": f.sum(name)}, Yanked: y})
		}
		w.Header().Set("Content-Type", "application/vnd.pypi.simple.v1+json")
		_ = json.NewEncoder(w).Encode(page)
	case strings.HasPrefix(r.URL.Path, "/files/"):
		data, ok := f.files[strings.TrimPrefix(r.URL.Path, "/files/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(data)
	case strings.HasPrefix(r.URL.Path, "/integrity/pypi-attestations/0.0.19/"):
		name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/integrity/pypi-attestations/0.0.19/"), "/provenance")
		p, ok := f.provenance[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/vnd.pypi.integrity.v1+json")
		_, _ = w.Write(p)
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeIndex) sum(name string) string {
	if s, ok := f.listed[name]; ok {
		return s
	}
	h := sha256.Sum256(f.files[name])
	return hex.EncodeToString(h[:])
}

func sdistIndex(t *testing.T) *fakeIndex {
	f := newFakeIndex(t)
	f.files[pypiSdist] = readPyPI(t, pypiSdist)
	f.provenance[pypiSdist] = readPyPI(t, pypiSdist+".provenance")
	return f
}

// The sdist publish-attestation-only policy: the provenance object carries the publish
// attestation (a signature) and SLSA provenance.
const pypiIndexPolicy = `
authorities:
  - name: release
    keyless:
      issuer: https://token.actions.githubusercontent.com
      subject: https://github.com/trailofbits/pypi-attestations/.github/workflows/release.yml@refs/tags/v0.0.19
require: {signature: true}
tlog: {required: true}
`

func verifyRelease(t *testing.T, idx *fakeIndex, pol string, req attest.PyPIRequest, opts ...attest.CallOption) *attest.PyPIRelease {
	t.Helper()
	if req.Index == "" {
		req.Index = idx.URL
	}
	if req.Project == "" {
		req.Project, req.Version = "pypi-attestations", "0.0.19"
	}
	rel, err := npmVerifier(t, pol).VerifyPyPI(context.Background(), req, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return rel
}

// A release resolved from a PEP 691 JSON index (and from a PEP 503 HTML page): the file is
// downloaded, checked against the index's sha256, and its provenance object read from the
// Integrity API verifies under the policy.
func TestPyPIIndexResolvesAndVerifies(t *testing.T) {
	for _, html := range []bool{false, true} {
		t.Run(fmt.Sprintf("html=%v", html), func(t *testing.T) {
			idx := sdistIndex(t)
			idx.html = html
			rel := verifyRelease(t, idx, pypiIndexPolicy, attest.PyPIRequest{Project: "PyPI_Attestations", Version: "0.0.19"},
				attest.ForSourceRepository("https://github.com/trailofbits/pypi-attestations"))
			if !rel.Result.Passed {
				t.Fatalf("not passed:\n%s", rel.Result.Summary())
			}
			const sum = "9bb1add04b1b4e182be6b0b80931593f7a291eb49d69b4fd728a5d4cbcdc4bd3"
			if len(rel.Files) != 1 || rel.Files[0].SHA256 != sum || rel.Files[0].URL != idx.URL+"/files/"+pypiSdist ||
				rel.Result.Digest != "sha256:"+sum || rel.Result.Artifact.Type != attest.ArtifactPyPI {
				t.Fatalf("files %+v result digest %s", rel.Files, rel.Result.Digest)
			}
			// The provenance object holds the publish attestation (a signature).
			if its := rel.Result.Items; len(its) != 1 || its[0].Kind != attest.KindSignature || !strings.HasPrefix(its[0].Candidate, pypiSdist+": provenance") {
				t.Fatalf("items: %d", len(its))
			}
			if !contains(idx.requests, "/integrity/pypi-attestations/0.0.19/"+pypiSdist+"/provenance") {
				t.Fatalf("the Integrity API was not asked: %v", idx.requests)
			}
		})
	}
}

// What the index serves must be what it lists, and exactly the version asked for.
func TestPyPIIndexRefusals(t *testing.T) {
	cases := []struct {
		name  string
		setup func(f *fakeIndex)
		req   attest.PyPIRequest
		want  string
	}{
		{"hash mismatch", func(f *fakeIndex) {
			b := append([]byte{}, f.files[pypiSdist]...)
			f.listed[pypiSdist] = f.sum(pypiSdist)
			b[100] ^= 1
			f.files[pypiSdist] = b
		}, attest.PyPIRequest{}, pypiSdist + " from "},
		{"yanked", func(f *fakeIndex) { f.yanked = pypiSdist }, attest.PyPIRequest{}, pypiSdist + " of pypi-attestations 0.0.19 is yanked (yanked: broken build)"},
		{"no such version", func(*fakeIndex) {}, attest.PyPIRequest{Project: "pypi-attestations", Version: "0.0.20"}, "pypi-attestations 0.0.20 has no distributions"},
		{"no such project", func(*fakeIndex) {}, attest.PyPIRequest{Project: "other", Version: "1.0"}, "project other"},
		{"no wheel", func(*fakeIndex) {}, attest.PyPIRequest{Distributions: attest.PyPIAnyWheel}, "is of the kind required (distributions: any-wheel)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			idx := sdistIndex(t)
			c.setup(idx)
			rel := verifyRelease(t, idx, pypiIndexPolicy, c.req)
			r := rel.Result
			if r.Passed || len(r.Failures) != 1 || r.Failures[0].Check != attest.CheckResolve || !strings.Contains(r.Failures[0].Reason, c.want) {
				t.Fatalf("want resolve failure containing %q, got %s", c.want, r.Summary())
			}
		})
	}
}

// The index has no provenance for the file: the release fails require.signature, unless the
// publisher supplies the provenance object as evidence. Supplied evidence that binds to no
// file of the release refuses it, naming the document.
func TestPyPIIndexSuppliedEvidence(t *testing.T) {
	idx := sdistIndex(t)
	delete(idx.provenance, pypiSdist)
	rel := verifyRelease(t, idx, pypiIndexPolicy, attest.PyPIRequest{})
	if r := rel.Result; r.Passed || len(r.Failures) != 1 || r.Failures[0].Check != attest.CheckRequireSignature {
		t.Fatalf("without provenance: %s", r.Summary())
	}
	rel = verifyRelease(t, idx, pypiIndexPolicy, attest.PyPIRequest{},
		attest.WithEvidence(attest.SuppliedEvidence{Name: "prov.json", Bundle: readPyPI(t, pypiSdist+".provenance")}))
	if !rel.Result.Passed {
		t.Fatalf("with supplied provenance: %s", rel.Result.Summary())
	}
	// The staging wheel's attestation names another file.
	rel = verifyRelease(t, idx, pypiIndexPolicy, attest.PyPIRequest{},
		attest.WithEvidence(attest.SuppliedEvidence{Name: "prov.json", Bundle: readPyPI(t, pypiSdist+".provenance")},
			attest.SuppliedEvidence{Name: "wheel.att", Bundle: readPyPI(t, pypiWheel+".attestation")}))
	r := rel.Result
	if r.Passed || len(r.Failures) != 1 || r.Failures[0].Check != attest.CheckSubject || !strings.Contains(r.Failures[0].Reason, "supplied wheel.att") ||
		!strings.Contains(r.Failures[0].Reason, pypiWheel) {
		t.Fatalf("foreign attestation: %s", r.Summary())
	}
}

// Every file of a release is verified under distributions: all; a file without evidence
// refuses the release, naming the file.
func TestPyPIIndexEveryFileVerified(t *testing.T) {
	idx := sdistIndex(t)
	// A second file of the same version (a zip sdist) that nobody attested.
	idx.files["pypi_attestations-0.0.19.zip"] = []byte("PK\x05\x06" + strings.Repeat("\x00", 18))
	rel := verifyRelease(t, idx, pypiIndexPolicy, attest.PyPIRequest{})
	r := rel.Result
	if r.Passed || len(rel.Files) != 2 || len(r.Failures) != 1 || r.Failures[0].Check != attest.CheckRequireSignature ||
		!strings.HasPrefix(r.Failures[0].Reason, "pypi_attestations-0.0.19.zip: ") {
		t.Fatalf("unattested second file: %s", r.Summary())
	}
	// Only the .tar.gz is verified when the policy asks for the sdist… both are sdists, so
	// both are still required.
	rel = verifyRelease(t, idx, pypiIndexPolicy, attest.PyPIRequest{Distributions: attest.PyPISdist})
	if rel.Result.Passed {
		t.Fatal("distributions: sdist skipped an sdist")
	}
}
