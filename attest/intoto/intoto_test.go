package intoto

import (
	"errors"
	"strings"
	"testing"
)

const digest = "sha256:7321122700000000000000000000000000000000000000000000000000000aa4"

func stmt(body string) []byte { return []byte(body) }

func TestParseStatement(t *testing.T) {
	good := `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"x","digest":{"sha256":"7321122700000000000000000000000000000000000000000000000000000aa4"}}],"predicateType":"https://spdx.dev/Document","predicate":{"spdxVersion":"SPDX-2.3"}}`
	s, err := ParseStatement(stmt(good))
	if err != nil {
		t.Fatal(err)
	}
	if !s.HasSubjectDigest(digest) || s.HasSubjectDigest("sha256:00") || Classify(s.PredicateType) != KindSBOM {
		t.Errorf("statement %+v", s)
	}
	noPred, err := ParseStatement(stmt(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"ab"}}],"predicateType":"https://sigstore.dev/cosign/sign/v1"}`))
	if err != nil || string(noPred.Predicate) != "{}" {
		t.Errorf("statement without predicate: %v %s", err, noPred.Predicate)
	}
	cases := []struct{ name, doc, want string }{
		{"not JSON", `hello`, "malformed"},
		{"duplicate key", `{"_type":"https://in-toto.io/Statement/v1","predicateType":"a","predicateType":"b","subject":[{"digest":{"sha256":"ab"}}],"predicate":{}}`, `duplicate key "predicateType"`},
		{"duplicate nested key", `{"_type":"https://in-toto.io/Statement/v1","predicateType":"a","subject":[{"digest":{"sha256":"ab","sha256":"cd"}}],"predicate":{}}`, `$.subject[0].digest: duplicate key "sha256"`},
		{"trailing data", `{"_type":"https://in-toto.io/Statement/v1"} {}`, "trailing data"},
		{"wrong type", `{"_type":"https://example.com/Statement","predicateType":"a","subject":[{"digest":{"sha256":"ab"}}],"predicate":{}}`, "is not an in-toto statement"},
		{"no subject", `{"_type":"https://in-toto.io/Statement/v1","predicateType":"a","subject":[],"predicate":{}}`, "no subject"},
		{"subject without digest", `{"_type":"https://in-toto.io/Statement/v1","predicateType":"a","subject":[{"name":"x"}],"predicate":{}}`, "subject[0] has no digest"},
		{"no predicate type", `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"ab"}}],"predicate":{}}`, "no predicateType"},
		{"predicate not an object", `{"_type":"https://in-toto.io/Statement/v1","predicateType":"a","subject":[{"digest":{"sha256":"ab"}}],"predicate":"x"}`, "predicate is not a JSON object"},
		{"too deep", strings.Repeat("[", 200) + strings.Repeat("]", 200), "nesting deeper"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseStatement(stmt(c.doc))
			if err == nil || !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want ErrMalformed with %q", err, c.want)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	for pt, want := range map[string]Kind{
		PredicateSPDX: KindSBOM, PredicateCycloneDX: KindSBOM, PredicateSLSAv02: KindProvenance, PredicateSLSAv1: KindProvenance,
		PredicateCosignSign: KindSignature, PredicateToolManifest: KindTools,
		"https://slsa.dev/provenance/v1.evil": KindOther, "https://spdx.dev/Document/": KindOther, "": KindOther,
	} {
		if got := Classify(pt); got != want {
			t.Errorf("Classify(%q) = %s, want %s", pt, got, want)
		}
	}
}

func TestParseProvenance(t *testing.T) {
	v1 := `{"buildDefinition":{"buildType":"bt","externalParameters":{"workflow":{"ref":"refs/tags/v1","repository":"https://github.com/acme/weather","path":".github/workflows/r.yml"}},"internalParameters":{"github":{"event_name":"release","runner_environment":"github-hosted"}},"resolvedDependencies":[{"uri":"git+https://github.com/acme/weather@refs/tags/v1","digest":{"gitCommit":"abc"}}]},"runDetails":{"builder":{"id":"https://github.com/actions/runner"}}}`
	p, err := ParseProvenance(PredicateSLSAv1, []byte(v1))
	if err != nil {
		t.Fatal(err)
	}
	want := Provenance{PredicateType: PredicateSLSAv1, BuilderID: "https://github.com/actions/runner", BuildType: "bt", SourceRepo: "https://github.com/acme/weather",
		Commit: "abc", Ref: "refs/tags/v1", Workflow: ".github/workflows/r.yml", Trigger: "release", Runner: "github-hosted"}
	if *p != want {
		t.Errorf("v1: %+v", *p)
	}
	v02 := `{"builder":{"id":"b"},"invocation":{"configSource":{"uri":"git+https://GitHub.com/acme/weather.git@refs/heads/main","digest":{"sha1":"def"},"entryPoint":"ci.yml"},"environment":{"github_event_name":"push"}}}`
	p, err = ParseProvenance(PredicateSLSAv02, []byte(v02))
	if err != nil {
		t.Fatal(err)
	}
	if p.SourceRepo != "https://github.com/acme/weather" || p.Ref != "refs/heads/main" || p.Commit != "def" || p.Workflow != "ci.yml" || p.Trigger != "push" {
		t.Errorf("v0.2: %+v", *p)
	}
	for name, c := range map[string]struct{ pt, doc, want string }{
		"no builder":      {PredicateSLSAv1, `{"runDetails":{}}`, "no builder id"},
		"not provenance":  {PredicateSPDX, `{}`, "is not SLSA provenance"},
		"duplicate key":   {PredicateSLSAv02, `{"builder":{"id":"a","id":"b"}}`, "duplicate key"},
		"wrong JSON type": {PredicateSLSAv02, `{"builder":"b"}`, "malformed"},
	} {
		if _, err := ParseProvenance(c.pt, []byte(c.doc)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", name, err, c.want)
		}
	}
}

func TestParseSimpleSigning(t *testing.T) {
	good := `{"critical":{"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":"` + digest + `"},"type":"cosign container image signature"},"optional":null}`
	s, err := ParseSimpleSigning([]byte(good))
	if err != nil || s.Critical.Image.DockerManifestDigest != digest {
		t.Fatalf("%v %+v", err, s)
	}
	for name, c := range map[string]struct{ doc, want string }{
		"wrong type":     {strings.Replace(good, "cosign container image signature", "x", 1), `critical.type "x"`},
		"bad digest":     {strings.Replace(good, digest, "sha256:ABC", 1), "is not a sha256 digest"},
		"duplicate keys": {`{"critical":{"image":{"docker-manifest-digest":"` + digest + `","docker-manifest-digest":"sha256:00"}}}`, "duplicate key"},
	} {
		if _, err := ParseSimpleSigning([]byte(c.doc)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", name, err, c.want)
		}
	}
}

func TestCheckSBOM(t *testing.T) {
	if err := CheckSBOM(PredicateSPDX, []byte(`{"spdxVersion":"SPDX-2.3"}`)); err != nil {
		t.Error(err)
	}
	if err := CheckSBOM(PredicateCycloneDX, []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6"}`)); err != nil {
		t.Error(err)
	}
	if err := CheckSBOM(PredicateSPDX, []byte(`{"bomFormat":"CycloneDX"}`)); err == nil || !strings.Contains(err.Error(), "no spdxVersion") {
		t.Errorf("CycloneDX as SPDX: %v", err)
	}
	if err := CheckSBOM(PredicateCycloneDX, []byte(`{"spdxVersion":"SPDX-2.3"}`)); err == nil {
		t.Error("SPDX as CycloneDX accepted")
	}
}

func TestNormalizeRepo(t *testing.T) {
	for in, want := range map[string]string{
		"git+https://github.com/acme/weather.git": "https://github.com/acme/weather",
		"HTTPS://GitHub.com/acme/Weather/":        "https://github.com/acme/Weather",
		"https://github.com/acme/weather":         "https://github.com/acme/weather",
	} {
		if got := NormalizeRepo(in); got != want {
			t.Errorf("NormalizeRepo(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParseStatement(f *testing.F) {
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"ab"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{"runDetails":{"builder":{"id":"b"}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseStatement(data)
		if err != nil {
			return
		}
		if len(s.Subject) == 0 || s.PredicateType == "" {
			t.Fatalf("accepted %q", data)
		}
		if err := CheckStrictJSON(s.Predicate); err != nil {
			t.Fatalf("accepted predicate is not strict JSON: %v", err)
		}
		_, _ = ParseProvenance(s.PredicateType, s.Predicate)
		_ = CheckSBOM(s.PredicateType, s.Predicate)
	})
}

func FuzzParseSimpleSigning(f *testing.F) {
	f.Add([]byte(`{"critical":{"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":"` + digest + `"},"type":"cosign container image signature"},"optional":{"a":1}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSimpleSigning(data)
		if err == nil && !strings.HasPrefix(s.Critical.Image.DockerManifestDigest, "sha256:") {
			t.Fatalf("accepted digest %q", s.Critical.Image.DockerManifestDigest)
		}
	})
}

func FuzzParseProvenance(f *testing.F) {
	f.Add(PredicateSLSAv02, []byte(`{"builder":{"id":"b"},"invocation":{"configSource":{"uri":"git+https://x@y@refs/heads/main"}}}`))
	f.Add(PredicateSLSAv1, []byte(`{"buildDefinition":{"resolvedDependencies":[{"uri":"git+https://a/b@c"}]},"runDetails":{"builder":{"id":"b"}}}`))
	f.Fuzz(func(t *testing.T, pt string, data []byte) {
		p, err := ParseProvenance(pt, data)
		if err == nil && p.BuilderID == "" {
			t.Fatal("accepted provenance without builder")
		}
	})
}
