package registry

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

const (
	pypiWheelDigest = "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
	pypiSdistDigest = "sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
)

func pypiServer(extra string) []byte {
	return []byte(`{"$schema":"https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json","name":"io.github.acme/weather","description":"Weather","version":"1.0.0","packages":[{"registryType":"pypi","identifier":"weather-mcp","version":"1.0.0","transport":{"type":"stdio"}}` + extra + `]}`)
}

// pypiPackage is what adapt answers for a verified PyPI release of a wheel and an sdist: no
// SBOM attestation, a tool-manifest attestation.
func pypiPackage() (*VerifiedPackage, error) {
	return &VerifiedPackage{
		Digest: pypiWheelDigest, Pinned: "weather-mcp==1.0.0",
		Checks:       []Check{{Name: CheckSignature, Outcome: Pass, Reason: "PyPI publish attestation"}},
		ToolManifest: []byte(toolsV1), Result: json.RawMessage(`{}`),
		PyPI: &PyPIPin{Name: "weather-mcp", Version: "1.0.0", IndexURL: "https://pypi.org", Files: []PyPIFilePin{
			{Filename: "weather_mcp-1.0.0-py3-none-any.whl", SHA256: pypiWheelDigest, Data: []byte("whl")},
			{Filename: "weather_mcp-1.0.0.tar.gz", SHA256: pypiSdistDigest, Data: []byte("sdist")},
		}},
	}, nil
}

type fakePyPIGen struct {
	unpinned []string
	err      error
}

func (g fakePyPIGen) GeneratePyPISBOM(_ context.Context, files []PyPIFilePin) ([]byte, []string, error) {
	if len(files) != 2 || string(files[0].Data) != "whl" {
		return nil, nil, errors.New("not the verified files")
	}
	return []byte(`{"bomFormat":"CycloneDX"}`), g.unpinned, g.err
}

func TestPublishPyPI(t *testing.T) {
	cases := []struct {
		name     string
		gen      PyPISBOMGenerator
		unpinned string
		body     []byte
		evidence [][]byte
		decision Decision
		check    string
		outcome  Outcome
		why      string
		source   string
	}{
		{"generated SBOM", fakePyPIGen{}, "", pypiServer(""), nil, DecisionPublished, CheckSBOM, Pass, "source: registry-generated", "registry-generated"},
		{"unpinned requirements need review by default", fakePyPIGen{unpinned: []string{"httpx>=0.27"}}, "", pypiServer(""), nil, DecisionPendingReview, CheckPyPIUnpinned, Review, "httpx>=0.27", "registry-generated"},
		{"unpinned requirements rejected by policy", fakePyPIGen{unpinned: []string{"httpx>=0.27"}}, "reject", pypiServer(""), nil, DecisionRejected, CheckPyPIUnpinned, Fail, "publish.pypi.unpinned: reject", ""},
		{"no generator: no SBOM", nil, "", pypiServer(""), nil, DecisionRejected, CheckSBOM, Fail, "no verified SBOM", ""},
		{"generator fails", fakePyPIGen{err: errors.New("bad zip")}, "", pypiServer(""), nil, DecisionRejected, CheckSBOM, Fail, "bad zip", ""},
		{"evidence with an npm and a PyPI package", fakePyPIGen{}, "", pypiServer(`,{"registryType":"npm","identifier":"@acme/weather","version":"1.0.0","transport":{"type":"stdio"}}`),
			[][]byte{[]byte(`{}`)}, DecisionRejected, CheckPackages, Fail, "has 1 npm packages and 1 PyPI packages", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got VerifyRequest
			v := recordingVerifier{fakeVerifier{byRef: map[string]func() (*VerifiedPackage, error){"weather-mcp": pypiPackage}}, &got}
			st := newMemStore()
			p, err := NewPipeline(st, v, fakeScanner{outcome: Pass}, fakeTools{}, WithPyPI(PyPIOptions{SBOM: c.gen, Unpinned: c.unpinned}))
			if err != nil {
				t.Fatal(err)
			}
			res, err := p.Publish(context.Background(), PublishRequest{ServerJSON: c.body, Actor: "a", Authorizer: AuthorizerFunc(allow), Evidence: c.evidence})
			if err != nil {
				t.Fatal(err)
			}
			ck := findCheck(res.Checks, c.check)
			if res.Decision != c.decision || ck == nil || ck.Outcome != c.outcome || !strings.Contains(ck.Reason, c.why) {
				t.Fatalf("%s %+v", res.Decision, res.Checks)
			}
			if c.source == "" {
				return
			}
			if got.RegistryType != "pypi" || got.Version != "1.0.0" || got.Reference != "weather-mcp" {
				t.Fatalf("request %+v", got)
			}
			var meta VettedMeta
			if err := json.Unmarshal(res.Version.Vetted, &meta); err != nil {
				t.Fatal(err)
			}
			if len(meta.PyPI) != 1 || meta.PyPI[0].Version != "1.0.0" || len(meta.PyPI[0].Files) != 2 || meta.PyPI[0].Files[1].SHA256 != pypiSdistDigest ||
				meta.PyPI[0].SBOMSource != c.source || !strings.Contains(string(res.Version.Served), `"identifier":"weather-mcp"`) ||
				strings.Contains(string(res.Version.Served), "sha256:") {
				t.Fatalf("meta %s\nserved %s", res.Version.Vetted, res.Version.Served)
			}
		})
	}
	if _, err := NewPipeline(newMemStore(), fakeVerifier{}, fakeScanner{}, fakeTools{}, WithPyPI(PyPIOptions{Unpinned: "maybe"})); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
}

// A verifier that pins no files is a resolve failure, never a publish of unpinned bytes.
func TestPublishPyPIWithoutFilesRefused(t *testing.T) {
	v := fakeVerifier{byRef: map[string]func() (*VerifiedPackage, error){"weather-mcp": func() (*VerifiedPackage, error) {
		vp, _ := pypiPackage()
		vp.PyPI.Files = nil
		return vp, nil
	}}}
	p, err := NewPipeline(newMemStore(), v, fakeScanner{outcome: Pass}, fakeTools{}, WithPyPI(PyPIOptions{SBOM: fakePyPIGen{}}))
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Publish(context.Background(), PublishRequest{ServerJSON: pypiServer(""), Actor: "a", Authorizer: AuthorizerFunc(allow)})
	if err != nil {
		t.Fatal(err)
	}
	if ck := findCheck(res.Checks, CheckResolve); res.Decision != DecisionRejected || ck == nil || !strings.Contains(ck.Reason, "no PyPI pin") {
		t.Fatalf("%s %+v", res.Decision, res.Checks)
	}
}

// The VSA of a published PyPI release names every verified file's digest (a client may
// install any of them), at publish and when a reviewer's approval re-signs it from what was
// stored.
func TestPyPIVSANamesEveryFile(t *testing.T) {
	s := &fakeSigner{}
	v := fakeVerifier{byRef: map[string]func() (*VerifiedPackage, error){"weather-mcp": pypiPackage}}
	st := newMemStore()
	p, err := NewPipeline(st, v, fakeScanner{outcome: Pass}, fakeTools{}, WithPyPI(PyPIOptions{SBOM: fakePyPIGen{}}), WithVSASigner(s))
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Publish(context.Background(), PublishRequest{ServerJSON: pypiServer(""), Actor: "a", Authorizer: AuthorizerFunc(allow)})
	if err != nil || res.Decision != DecisionPublished || s.got == nil {
		t.Fatalf("%v %s %+v", err, res.Decision, res.Checks)
	}
	want := map[string]string{"weather_mcp-1.0.0-py3-none-any.whl": pypiWheelDigest, "weather_mcp-1.0.0.tar.gz": pypiSdistDigest}
	check := func(when string, sum VerificationSummary) {
		t.Helper()
		got := map[string]string{}
		for _, sub := range sum.Subjects {
			if strings.HasSuffix(sub.Name, "/tools") {
				continue
			}
			got[sub.Name] = sub.Digest
		}
		if len(got) != len(want) || got["weather_mcp-1.0.0-py3-none-any.whl"] != pypiWheelDigest || got["weather_mcp-1.0.0.tar.gz"] != pypiSdistDigest {
			t.Fatalf("%s: VSA subjects %+v, want every file %v", when, sum.Subjects, want)
		}
	}
	check("at publish", *s.got)
	atPublish := *s.got

	k := Key{"io.github.acme/weather", "1.0.0"}
	s.got = nil
	env, err := NewVoucher(vouchMem{st}, s, func() time.Time { return atPublish.Time }).Vouch(context.Background(), k)
	if err != nil || len(env) == 0 || s.got == nil {
		t.Fatal(err)
	}
	check("on approval", *s.got)
	a, _ := json.Marshal(atPublish)
	b, _ := json.Marshal(*s.got)
	if string(a) != string(b) {
		t.Fatalf("the summary signed on approval differs from the one at publish:\n%s\n%s", a, b)
	}
}

// vouchMem serves a Voucher from the test store.
type vouchMem struct{ *memStore }

func (m vouchMem) PinnedPackages(_ context.Context, k Key) ([]PinnedPackage, error) {
	var meta VettedMeta
	v, err := m.GetVersion(context.Background(), k)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(v.Vetted, &meta); err != nil {
		return nil, err
	}
	return meta.Packages, nil
}

// A policy with require.sbom: the verifier reports no SBOM attestation for a PyPI release or
// an MCP bundle; the registry builds one from the verified files, which meets the
// requirement (and with no generator the verifier's failure stands).
func TestPublishPyPIAndMCPBGeneratedSBOMMeetsRequireSBOM(t *testing.T) {
	noSBOM := Check{Name: CheckSBOM, Outcome: Fail, Reason: "no verified sbom"}
	pypiPkg := func() (*VerifiedPackage, error) {
		vp, err := pypiPackage()
		vp.Checks = append(vp.Checks, noSBOM)
		return vp, err
	}
	mcpbPkg := func() (*VerifiedPackage, error) {
		return &VerifiedPackage{Digest: "sha256:" + mcpbSHA, Pinned: "https://example.com/weather.mcpb#sha256=" + mcpbSHA,
			Checks: []Check{{Name: CheckSignature, Outcome: Pass, Reason: "signed"}, noSBOM}, ToolManifest: []byte(toolsV1), Result: json.RawMessage(`{}`),
			MCPB: &MCPBPin{URL: "https://example.com/weather.mcpb", FileSHA256: mcpbSHA, Name: "weather", Data: []byte("zip")}}, nil
	}
	for _, c := range []struct {
		name     string
		body     []byte
		ref      string
		pkg      func() (*VerifiedPackage, error)
		gen      PyPISBOMGenerator
		evidence [][]byte
		decision Decision
	}{
		{"pypi, generator", pypiServer(""), "weather-mcp", pypiPkg, fakePyPIGen{}, nil, DecisionPublished},
		{"pypi, no generator", pypiServer(""), "weather-mcp", pypiPkg, nil, nil, DecisionRejected},
		{"mcpb, generator", mcpbServer(), "https://example.com/weather.mcpb", mcpbPkg, mcpbGen{}, [][]byte{[]byte(`{}`)}, DecisionPublished},
		{"mcpb, no generator", mcpbServer(), "https://example.com/weather.mcpb", mcpbPkg, nil, [][]byte{[]byte(`{}`)}, DecisionRejected},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := fakeVerifier{byRef: map[string]func() (*VerifiedPackage, error){c.ref: c.pkg}}
			p, err := NewPipeline(newMemStore(), v, fakeScanner{outcome: Pass}, fakeTools{}, WithPyPI(PyPIOptions{SBOM: c.gen}))
			if err != nil {
				t.Fatal(err)
			}
			res, err := p.Publish(context.Background(), PublishRequest{ServerJSON: c.body, Actor: "a", Authorizer: AuthorizerFunc(allow), Evidence: c.evidence})
			if err != nil {
				t.Fatal(err)
			}
			fails, generated := 0, false
			for _, ck := range res.Checks {
				if ck.Name == CheckSBOM && ck.Outcome == Fail {
					fails++
				}
				if ck.Name == CheckSBOM && ck.Outcome == Pass && strings.Contains(ck.Reason, "source: registry-generated") {
					generated = true
				}
			}
			if res.Decision != c.decision || (c.gen != nil) != (fails == 0) || (c.gen != nil) != generated {
				t.Fatalf("%s %+v", res.Decision, res.Checks)
			}
		})
	}
}
