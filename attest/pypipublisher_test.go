package attest

import (
	"testing"

	"github.com/vetted-dev/vetted/attest/pypi"
)

// The Trusted Publisher recorded in a provenance object must be the certificate's: GitHub
// (repository + workflow) and GitLab (project + CI file path, GitLab's "//" SAN form).
func TestCheckPublisherGitHubAndGitLab(t *testing.T) {
	gh := &pypi.Publisher{Kind: "GitHub", Repository: "acme/weather", Workflow: "release.yml"}
	gl := &pypi.Publisher{Kind: "GitLab", Repository: "acme/weather", WorkflowFilepath: ".gitlab-ci.yml"}
	item := func(repo, san string) *Item {
		return &Item{SignerIdentity: san, Certificate: &CertificateFacts{SourceRepositoryURI: repo}}
	}
	ghItem := item("https://github.com/acme/weather", "https://github.com/acme/weather/.github/workflows/release.yml@refs/tags/v1.0.0")
	glItem := item("https://gitlab.com/acme/weather", "https://gitlab.com/acme/weather//.gitlab-ci.yml@refs/tags/v1.0.0")
	for _, c := range []struct {
		name string
		p    *pypi.Publisher
		it   *Item
		ok   bool
	}{
		{"github", gh, ghItem, true},
		{"gitlab", gl, glItem, true},
		{"github publisher, gitlab certificate", gh, glItem, false},
		{"gitlab publisher, github certificate", gl, ghItem, false},
		{"github, other workflow", gh, item("https://github.com/acme/weather", "https://github.com/acme/weather/.github/workflows/other.yml@refs/heads/main"), false},
		{"gitlab, other CI file", gl, item("https://gitlab.com/acme/weather", "https://gitlab.com/acme/weather//ci/other.yml@refs/heads/main"), false},
		{"gitlab, other project", gl, item("https://gitlab.com/evil/weather", "https://gitlab.com/evil/weather//.gitlab-ci.yml@refs/heads/main"), false},
		{"gitlab without a CI file", &pypi.Publisher{Kind: "GitLab", Repository: "acme/weather"}, glItem, false},
		{"unknown kind", &pypi.Publisher{Kind: "Google", Repository: "acme/weather"}, glItem, false},
		{"no certificate", gl, &Item{SignerIdentity: "key"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			rej := checkPublisher(c.p, c.it)
			if c.ok != (rej == nil) {
				t.Fatalf("want ok=%v, got %+v", c.ok, rej)
			}
			if rej != nil && rej.check != CheckPublisher {
				t.Fatalf("refused by %s, want %s: %s", rej.check, CheckPublisher, rej.reason)
			}
		})
	}
}
