package intoto

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Provenance is what Vetted extracts from a verified SLSA provenance predicate.
type Provenance struct {
	PredicateType string `json:"predicateType"`
	BuilderID     string `json:"builderId"`
	BuildType     string `json:"buildType,omitempty"`
	SourceRepo    string `json:"sourceRepository,omitempty"`
	Commit        string `json:"commit,omitempty"`
	Ref           string `json:"ref,omitempty"`
	Workflow      string `json:"workflow,omitempty"`
	Trigger       string `json:"trigger,omitempty"`
	Runner        string `json:"runner,omitempty"`
}

type slsaV1 struct {
	BuildDefinition struct {
		BuildType          string `json:"buildType"`
		ExternalParameters struct {
			Workflow struct {
				Ref        string `json:"ref"`
				Repository string `json:"repository"`
				Path       string `json:"path"`
			} `json:"workflow"`
		} `json:"externalParameters"`
		InternalParameters struct {
			GitHub struct {
				EventName         string `json:"event_name"`
				RunnerEnvironment string `json:"runner_environment"`
			} `json:"github"`
		} `json:"internalParameters"`
		ResolvedDependencies []struct {
			URI    string            `json:"uri"`
			Digest map[string]string `json:"digest"`
		} `json:"resolvedDependencies"`
	} `json:"buildDefinition"`
	RunDetails struct {
		Builder struct {
			ID string `json:"id"`
		} `json:"builder"`
	} `json:"runDetails"`
}

type slsaV02 struct {
	Builder struct {
		ID string `json:"id"`
	} `json:"builder"`
	BuildType  string `json:"buildType"`
	Invocation struct {
		ConfigSource struct {
			URI        string            `json:"uri"`
			Digest     map[string]string `json:"digest"`
			EntryPoint string            `json:"entryPoint"`
		} `json:"configSource"`
		Environment map[string]any `json:"environment"`
	} `json:"invocation"`
	Materials []struct {
		URI    string            `json:"uri"`
		Digest map[string]string `json:"digest"`
	} `json:"materials"`
}

// ParseProvenance extracts provenance facts from a SLSA v0.2 or v1 predicate. The builder id
// is mandatory: provenance without one cannot be matched against a policy.
func ParseProvenance(predicateType string, predicate []byte) (*Provenance, error) {
	if err := CheckStrictJSON(predicate); err != nil {
		return nil, fmt.Errorf("provenance: %w", err)
	}
	p := &Provenance{PredicateType: predicateType}
	switch predicateType {
	case PredicateSLSAv1:
		var v slsaV1
		if err := json.Unmarshal(predicate, &v); err != nil {
			return nil, fmt.Errorf("provenance: %w: %w", ErrMalformed, err)
		}
		bd := v.BuildDefinition
		p.BuilderID = v.RunDetails.Builder.ID
		p.BuildType = bd.BuildType
		wf := bd.ExternalParameters.Workflow
		p.SourceRepo, p.Ref, p.Workflow = wf.Repository, wf.Ref, wf.Path
		p.Trigger = bd.InternalParameters.GitHub.EventName
		p.Runner = bd.InternalParameters.GitHub.RunnerEnvironment
		for _, d := range bd.ResolvedDependencies {
			repo, ref := splitGitURI(d.URI)
			if repo == "" {
				continue
			}
			if p.SourceRepo == "" {
				p.SourceRepo = repo
			}
			if p.Ref == "" {
				p.Ref = ref
			}
			if c := gitCommit(d.Digest); c != "" && p.Commit == "" {
				p.Commit = c
			}
			break
		}
	case PredicateSLSAv02:
		var v slsaV02
		if err := json.Unmarshal(predicate, &v); err != nil {
			return nil, fmt.Errorf("provenance: %w: %w", ErrMalformed, err)
		}
		p.BuilderID, p.BuildType = v.Builder.ID, v.BuildType
		cs := v.Invocation.ConfigSource
		p.SourceRepo, p.Ref = splitGitURI(cs.URI)
		p.Commit = gitCommit(cs.Digest)
		p.Workflow = cs.EntryPoint
		if env := v.Invocation.Environment; env != nil {
			p.Trigger, _ = env["github_event_name"].(string)
			if p.Ref == "" {
				p.Ref, _ = env["github_ref"].(string)
			}
		}
		if p.SourceRepo == "" && len(v.Materials) > 0 {
			p.SourceRepo, _ = splitGitURI(v.Materials[0].URI)
			if p.Commit == "" {
				p.Commit = gitCommit(v.Materials[0].Digest)
			}
		}
	default:
		return nil, fmt.Errorf("provenance: %w: predicate type %q is not SLSA provenance", ErrMalformed, predicateType)
	}
	if p.BuilderID == "" {
		return nil, fmt.Errorf("provenance: %w: no builder id", ErrMalformed)
	}
	return p, nil
}

// splitGitURI turns "git+https://github.com/o/r@refs/heads/main" into the repository URL and ref.
func splitGitURI(uri string) (repo, ref string) {
	uri = strings.TrimPrefix(uri, "git+")
	if i := strings.LastIndex(uri, "@"); i > strings.Index(uri, "://")+2 && strings.Contains(uri, "://") {
		repo, ref = uri[:i], uri[i+1:]
	} else {
		repo = uri
	}
	return NormalizeRepo(repo), ref
}

func gitCommit(d map[string]string) string {
	for _, k := range []string{"gitCommit", "sha1"} {
		if v := d[k]; v != "" {
			return v
		}
	}
	return ""
}

// NormalizeRepo makes repository URLs comparable: no "git+" scheme prefix, no ".git" suffix,
// no trailing slash, and a lower-case scheme and host. The path keeps its case.
func NormalizeRepo(u string) string {
	u = strings.TrimSpace(strings.TrimPrefix(u, "git+"))
	u = strings.TrimSuffix(strings.TrimSuffix(u, "/"), ".git")
	if scheme, rest, ok := strings.Cut(u, "://"); ok {
		host, path, _ := strings.Cut(rest, "/")
		u = strings.ToLower(scheme) + "://" + strings.ToLower(host)
		if path != "" {
			u += "/" + path
		}
	}
	return u
}
