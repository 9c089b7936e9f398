package registry

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

const npmDigest = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

func npmServer(extra string) []byte {
	return []byte(`{"$schema":"https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json","name":"io.github.acme/weather","description":"Weather","version":"1.0.0","packages":[{"registryType":"npm","identifier":"@acme/weather","version":"1.0.0","transport":{"type":"stdio"}}` + extra + `]}`)
}

// npmPackage is what adapt answers for a verified npm package: no SBOM attestation, a tool
// manifest attestation.
func npmPackage(got *VerifyRequest) func() (*VerifiedPackage, error) {
	return func() (*VerifiedPackage, error) {
		return &VerifiedPackage{
			Digest: npmDigest, Pinned: "@acme/weather@1.0.0",
			Checks:       []Check{{Name: CheckProvenance, Outcome: Pass, Reason: "npm provenance"}},
			ToolManifest: []byte(toolsV1), Result: json.RawMessage(`{}`),
			NPM: &NPMPin{Name: "@acme/weather", Version: "1.0.0", Integrity: "sha512-AAAA", SHA256: npmDigest,
				TarballURL: "https://registry.npmjs.org/@acme/weather/-/weather-1.0.0.tgz", Tarball: []byte("tgz")},
		}, nil
	}
}

type fakeGen struct {
	unpinned []string
	err      error
}

func (g fakeGen) GenerateNPMSBOM(_ context.Context, tarball []byte) ([]byte, []string, error) {
	if string(tarball) != "tgz" {
		return nil, nil, errors.New("not the verified tarball")
	}
	return []byte(`{"bomFormat":"CycloneDX"}`), g.unpinned, g.err
}

type recordingVerifier struct {
	fakeVerifier
	got *VerifyRequest
}

func (r recordingVerifier) VerifyPackage(ctx context.Context, q VerifyRequest) (*VerifiedPackage, error) {
	*r.got = q
	return r.fakeVerifier.VerifyPackage(ctx, q)
}

func TestPublishNPM(t *testing.T) {
	cases := []struct {
		name     string
		gen      NPMSBOMGenerator
		unpinned string
		body     []byte
		evidence [][]byte
		decision Decision
		check    string // a check with this name…
		outcome  Outcome
		why      string
		source   string
	}{
		{"generated SBOM, lockfile shipped", fakeGen{}, "", npmServer(""), nil, DecisionPublished, CheckSBOM, Pass, "source: registry-generated", "registry-generated"},
		{"unpinned ranges need review by default", fakeGen{unpinned: []string{"lodash@^4"}}, "", npmServer(""), nil, DecisionPendingReview, CheckNPMUnpinned, Review, "lodash@^4", "registry-generated"},
		{"unpinned ranges rejected by policy", fakeGen{unpinned: []string{"lodash@^4"}}, "reject", npmServer(""), nil, DecisionRejected, CheckNPMUnpinned, Fail, "publish.npm.unpinned: reject", ""},
		{"unpinned ranges allowed by policy", fakeGen{unpinned: []string{"lodash@^4"}}, "allow", npmServer(""), nil, DecisionPublished, CheckNPMUnpinned, Pass, "allow", "registry-generated"},
		{"no generator: no SBOM", nil, "", npmServer(""), nil, DecisionRejected, CheckSBOM, Fail, "no verified SBOM", ""},
		{"generator fails", fakeGen{err: errors.New("corrupt tar")}, "", npmServer(""), nil, DecisionRejected, CheckSBOM, Fail, "corrupt tar", ""},
		{"evidence with two npm packages", fakeGen{}, "", npmServer(`,{"registryType":"npm","identifier":"@acme/weather","version":"1.0.0","transport":{"type":"stdio"}}`),
			[][]byte{[]byte(`{}`)}, DecisionRejected, CheckPackages, Fail, "has 2 npm packages", ""},
		{"nuget names the missing channel", fakeGen{}, "", []byte(`{"$schema":"https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json","name":"io.github.acme/weather","description":"W","version":"1.0.0","packages":[{"registryType":"nuget","identifier":"Acme.Weather","version":"1.0.0","transport":{"type":"stdio"}}]}`),
			nil, DecisionRejected, CheckPackages, Fail, "no evidence channel", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got VerifyRequest
			v := recordingVerifier{fakeVerifier{byRef: map[string]func() (*VerifiedPackage, error){"@acme/weather": npmPackage(&got)}}, &got}
			st := newMemStore()
			p, err := NewPipeline(st, v, fakeScanner{outcome: Pass}, fakeTools{}, WithNPM(NPMOptions{SBOM: c.gen, Unpinned: c.unpinned}))
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
			if got.RegistryType != "npm" || got.Version != "1.0.0" || got.Reference != "@acme/weather" {
				t.Fatalf("request %+v", got)
			}
			var meta VettedMeta
			if err := json.Unmarshal(res.Version.Vetted, &meta); err != nil {
				t.Fatal(err)
			}
			if len(meta.NPM) != 1 || meta.NPM[0].Integrity != "sha512-AAAA" || meta.NPM[0].SHA256 != npmDigest || meta.NPM[0].SBOMSource != c.source ||
				meta.NPM[0].TarballURL == "" || !strings.Contains(string(res.Version.Served), `"identifier":"@acme/weather"`) || strings.Contains(string(res.Version.Served), "sha256:") {
				t.Fatalf("meta %s\nserved %s", res.Version.Vetted, res.Version.Served)
			}
			rec := st.records[Key{"io.github.acme/weather", "1.0.0"}]
			roles := map[string]bool{}
			for _, e := range rec.Evidence {
				roles[e.Role] = true
			}
			if !roles["sbom-registry-generated"] {
				t.Fatalf("evidence %+v", rec.Evidence)
			}
		})
	}
	if _, err := NewPipeline(newMemStore(), fakeVerifier{}, fakeScanner{}, fakeTools{}, WithNPM(NPMOptions{Unpinned: "maybe"})); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
}

func TestPublishNPMSuppliedEvidenceReachesTheVerifier(t *testing.T) {
	var got VerifyRequest
	v := recordingVerifier{fakeVerifier{byRef: map[string]func() (*VerifiedPackage, error){"@acme/weather": npmPackage(&got)}}, &got}
	p, err := NewPipeline(newMemStore(), v, fakeScanner{outcome: Pass}, fakeTools{}, WithNPM(NPMOptions{SBOM: fakeGen{}}))
	if err != nil {
		t.Fatal(err)
	}
	ev := [][]byte{[]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`)}
	if _, err := p.Publish(context.Background(), PublishRequest{ServerJSON: npmServer(`,{"registryType":"oci","identifier":"ghcr.io/x/y:1","transport":{"type":"stdio"}}`)[:0], Actor: "a", Authorizer: AuthorizerFunc(allow)}); err == nil {
		t.Fatal("empty body accepted")
	}
	if _, err := p.Publish(context.Background(), PublishRequest{ServerJSON: npmServer(""), Actor: "a", Authorizer: AuthorizerFunc(allow), Evidence: ev}); err != nil {
		t.Fatal(err)
	}
	if len(got.Evidence) != 1 || string(got.Evidence[0]) != string(ev[0]) || got.RegistryBaseURL != "" {
		t.Fatalf("%+v", got)
	}
}

// A policy with require.sbom: the verifier reports no SBOM attestation for an npm package;
// the registry builds one from the verified tarball, which meets the requirement (and with
// no generator the failure stands).
func TestPublishNPMGeneratedSBOMMeetsRequireSBOM(t *testing.T) {
	for _, c := range []struct {
		name     string
		gen      NPMSBOMGenerator
		decision Decision
	}{
		{"generator", fakeGen{}, DecisionPublished},
		{"no generator", nil, DecisionRejected},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got VerifyRequest
			withReq := func() (*VerifiedPackage, error) {
				vp, err := npmPackage(&got)()
				vp.Checks = append(vp.Checks, Check{Name: CheckSBOM, Outcome: Fail, Reason: "no verified sbom"})
				return vp, err
			}
			v := recordingVerifier{fakeVerifier{byRef: map[string]func() (*VerifiedPackage, error){"@acme/weather": withReq}}, &got}
			p, err := NewPipeline(newMemStore(), v, fakeScanner{outcome: Pass}, fakeTools{}, WithNPM(NPMOptions{SBOM: c.gen}))
			if err != nil {
				t.Fatal(err)
			}
			res, err := p.Publish(context.Background(), PublishRequest{ServerJSON: npmServer(""), Actor: "a", Authorizer: AuthorizerFunc(allow)})
			if err != nil {
				t.Fatal(err)
			}
			fails := 0
			for _, ck := range res.Checks {
				if ck.Name == CheckSBOM && ck.Outcome == Fail {
					fails++
				}
			}
			if res.Decision != c.decision || (c.gen != nil) != (fails == 0) {
				t.Fatalf("%s %+v", res.Decision, res.Checks)
			}
		})
	}
}
