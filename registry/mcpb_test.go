package registry

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

const mcpbSHA = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"

func mcpbServer() []byte {
	return []byte(`{"$schema":"https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json","name":"io.github.acme/weather","description":"Weather","version":"1.0.0","packages":[{"registryType":"mcpb","identifier":"https://example.com/weather.mcpb","fileSha256":"` + mcpbSHA + `","transport":{"type":"stdio"}}]}`)
}

func TestPublishMCPB(t *testing.T) {
	for _, c := range []struct {
		name     string
		pinSHA   string
		decision Decision
	}{{"pinned", mcpbSHA, DecisionPublished}, {"verifier pinned another digest", strings.Repeat("f", 64), DecisionRejected}} {
		t.Run(c.name, func(t *testing.T) {
			var got VerifyRequest
			v := recordingVerifier{fakeVerifier{byRef: map[string]func() (*VerifiedPackage, error){"https://example.com/weather.mcpb": func() (*VerifiedPackage, error) {
				return &VerifiedPackage{Digest: "sha256:" + c.pinSHA, Pinned: "https://example.com/weather.mcpb#sha256=" + c.pinSHA,
					Checks: []Check{{Name: CheckSignature, Outcome: Pass, Reason: "signed"}}, ToolManifest: []byte(toolsV1), Result: json.RawMessage(`{}`),
					MCPB: &MCPBPin{URL: "https://example.com/weather.mcpb", FileSHA256: c.pinSHA, Name: "weather", Data: []byte("zip")}}, nil
			}}}, &got}
			p, err := NewPipeline(newMemStore(), v, fakeScanner{outcome: Pass}, fakeTools{}, WithPyPI(PyPIOptions{SBOM: mcpbGen{}}))
			if err != nil {
				t.Fatal(err)
			}
			res, err := p.Publish(context.Background(), PublishRequest{ServerJSON: mcpbServer(), Actor: "a", Authorizer: AuthorizerFunc(allow), Evidence: [][]byte{[]byte(`{}`)}})
			if err != nil {
				t.Fatal(err)
			}
			if res.Decision != c.decision {
				t.Fatalf("%s %+v", res.Decision, res.Checks)
			}
			if got.FileSHA256 != mcpbSHA || len(got.Evidence) != 1 {
				t.Fatalf("request %+v", got)
			}
			if c.decision == DecisionRejected {
				if ck := findCheck(res.Checks, CheckResolve); ck == nil || !strings.Contains(ck.Reason, "fileSha256") {
					t.Fatalf("%+v", res.Checks)
				}
				return
			}
			var meta VettedMeta
			if err := json.Unmarshal(res.Version.Vetted, &meta); err != nil {
				t.Fatal(err)
			}
			if len(meta.MCPB) != 1 || meta.MCPB[0].FileSHA256 != mcpbSHA || meta.MCPB[0].SBOMSource != "registry-generated" ||
				!strings.Contains(string(res.Version.Served), `"identifier":"https://example.com/weather.mcpb"`) {
				t.Fatalf("meta %s served %s", res.Version.Vetted, res.Version.Served)
			}
		})
	}
}

type mcpbGen struct{}

func (mcpbGen) GeneratePyPISBOM(_ context.Context, files []PyPIFilePin) ([]byte, []string, error) {
	if len(files) != 1 || string(files[0].Data) != "zip" || !strings.HasSuffix(files[0].Filename, ".mcpb") {
		return nil, nil, context.Canceled
	}
	return []byte(`{"bomFormat":"CycloneDX"}`), nil, nil
}
