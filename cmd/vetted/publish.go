package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/vetted-dev/vetted/api"
	"github.com/vetted-dev/vetted/registry"
)

func newPublishCmd(e *env) *cobra.Command {
	var (
		registryURL, token, audience, bundlePath string
		evidencePaths                            []string
		asJSON                                   bool
	)
	cmd := &cobra.Command{
		Use:   "publish SERVER.JSON --registry URL",
		Short: "Publish a server version to a Vetted registry and print the decision",
		Long: `Publish sends server.json to the registry's POST /v0.1/publish. The registry verifies every
OCI package (signature, SBOM, provenance, tool manifest), scans the SBOM, inspects the tool
manifest, and decides: published, pending_review, or rejected. Every check is printed with its
reason.

The bearer token comes from --token, else $VETTED_TOKEN, else — inside GitHub Actions with
"permissions: id-token: write" — an OIDC token requested from $ACTIONS_ID_TOKEN_REQUEST_URL for
the registry's audience (--audience, else the "resource" of the registry's
/.well-known/oauth-protected-resource, else the registry URL).

--server-json-bundle FILE sends a Sigstore bundle over this server.json (cosign sign-blob --bundle
FILE SERVER.JSON, or the same over its RFC 8785 canonical form) in the Vetted-ServerJSON-Bundle
header; namespaces whose policy has require.serverJSON need it.

--evidence FILE (repeatable, at most 8) sends Sigstore bundles the package's own registry does
not carry — for an npm package, the SBOM and tool-manifest attestations over its tarball
(cosign attest-blob --bundle, actions/attest-sbom, actions/attest) or a signature over it
(cosign sign-blob --bundle). The body is then the envelope {"server": <SERVER.JSON byte for
byte>, "evidence": [<FILE>, …]}; the registry names a bundle it refuses evidence[i], in the
order given here.

Exit status: 0 published or pending_review (also when identical content was already
published), 1 rejected or refused (401, 403, 409), 2 bad usage, or a server.json that is
unreadable or fails the schema (400, 413, 422 without a decision).
--json prints the registry's answer (the publish response, or the problem document) as is.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body, err := os.ReadFile(args[0])
			if err != nil {
				return usageErrorf("read %s: %v", args[0], err)
			}
			// The registry's own strict decoder: a key that differs from the schema's only by
			// case, an unknown key or a duplicate is named here, before anything is sent.
			if _, err := registry.ParseServerJSON(body); err != nil {
				return usageErrorf("%s is not a valid server.json: %v", args[0], err)
			}
			if len(evidencePaths) > 0 {
				if body, err = publishEnvelope(e, body, evidencePaths); err != nil {
					return err
				}
			}
			var bundle []byte
			if bundlePath != "" {
				if bundle, err = readBundle(bundlePath); err != nil {
					return err
				}
			}
			c, err := newRegClient(registryURL, "")
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			tok, source, err := publishToken(ctx, e, c, token, audience)
			if err != nil {
				return err
			}
			c.token = tok
			fmt.Fprintf(e.stderr, "publishing %s to %s (token from %s)\n", args[0], registryURL, source)
			return runPublish(ctx, e, c, body, bundle, asJSON)
		},
	}
	cmd.Flags().StringVar(&registryURL, "registry", "", "registry base URL (required)")
	cmd.Flags().StringVar(&token, "token", "", "bearer token (default $VETTED_TOKEN, or a GitHub Actions OIDC token)")
	cmd.Flags().StringVar(&audience, "audience", "", "audience of the GitHub Actions OIDC token (default: the registry's resource identifier)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the registry's JSON answer")
	cmd.Flags().StringVar(&bundlePath, "server-json-bundle", "", "Sigstore bundle (JSON) over SERVER.JSON, sent in the "+api.ServerJSONBundleHeader+" header")
	cmd.Flags().StringArrayVar(&evidencePaths, "evidence", nil, "Sigstore bundle (JSON) over the package, sent with SERVER.JSON in a publish envelope (repeatable)")
	return cmd
}

// publishEnvelope wraps server.json (embedded byte for byte, so that a bundle over the file's
// exact bytes still binds) and the evidence files in a publish envelope.
func publishEnvelope(e *env, server []byte, paths []string) ([]byte, error) {
	if len(paths) > api.MaxEvidence {
		return nil, usageErrorf("%d --evidence files; a publish carries at most %d", len(paths), api.MaxEvidence)
	}
	var b bytes.Buffer
	b.WriteString(`{"server":`)
	b.Write(server)
	b.WriteString(`,"evidence":[`)
	for i, p := range paths {
		ev, err := os.ReadFile(p)
		if err != nil {
			return nil, usageErrorf("read %s: %v", p, err)
		}
		if len(ev) > api.MaxEvidenceBundle {
			return nil, usageErrorf("%s is larger than %d bytes, the most one evidence bundle may be", p, api.MaxEvidenceBundle)
		}
		if t := bytes.TrimSpace(ev); !json.Valid(t) || len(t) == 0 || t[0] != '{' {
			return nil, usageErrorf("%s is not a JSON Sigstore bundle", p)
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(ev)
		fmt.Fprintf(e.stderr, "evidence[%d]: %s\n", i, p)
	}
	b.WriteString(`]}`)
	if b.Len() > api.MaxPublishBody {
		return nil, usageErrorf("server.json and evidence come to %d bytes; a publish is at most %d", b.Len(), api.MaxPublishBody)
	}
	return b.Bytes(), nil
}

// maxBundleFile is what fits the header (base64) under the registry's header limit.
const maxBundleFile = 36 << 10

// readBundle reads a Sigstore bundle file for --server-json-bundle.
func readBundle(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usageErrorf("read %s: %v", path, err)
	}
	if len(b) > maxBundleFile {
		return nil, usageErrorf("%s is larger than %d bytes; a Sigstore bundle is a few KiB", path, maxBundleFile)
	}
	if !json.Valid(b) {
		return nil, usageErrorf("%s is not a JSON Sigstore bundle", path)
	}
	return b, nil
}

// publishAnswer is what the CLI reads of a publish answer (success or rejection).
type publishAnswer struct {
	Server struct {
		Name     string `json:"name"`
		Version  string `json:"version"`
		Packages []struct {
			RegistryType string `json:"registryType"`
			Identifier   string `json:"identifier"`
		} `json:"packages"`
	} `json:"server"`
	Meta struct {
		Vetted struct {
			ToolManifestDigest string `json:"toolManifestDigest"`
		} `json:"dev.vetted/verification"`
		Publish publishDecision `json:"dev.vetted/publish"`
	} `json:"_meta"`
}

type publishDecision struct {
	Decision string   `json:"decision"`
	Created  bool     `json:"created"`
	Warnings []string `json:"warnings"`
	Checks   []struct {
		Name    string `json:"name"`
		Package string `json:"package"`
		Outcome string `json:"outcome"`
		Reason  string `json:"reason"`
	} `json:"checks"`
}

func runPublish(ctx context.Context, e *env, c *regClient, body, bundle []byte, asJSON bool) error {
	hdr := map[string]string{"Content-Type": "application/json"}
	if len(bundle) > 0 {
		hdr[api.ServerJSONBundleHeader] = base64.StdEncoding.EncodeToString(bundle)
	}
	b, _, err := c.do(ctx, http.MethodPost, "/v0.1/publish", bytes.NewReader(body), hdr)
	var p *problemError
	if err != nil && !errors.As(err, &p) {
		return err
	}
	if p != nil {
		if asJSON {
			e.stdout.Write(p.Body)
			fmt.Fprintln(e.stdout)
			return checkFailedSilently()
		}
		var rej publishDecision
		if json.Unmarshal(p.Body, &rej) == nil && rej.Decision == "rejected" {
			fmt.Fprintln(e.stdout, "decision: rejected")
			printChecks(e.stdout, rej)
			return checkFailedSilently()
		}
		if p.Status == http.StatusBadRequest || p.Status == http.StatusUnprocessableEntity || p.Status == http.StatusRequestEntityTooLarge {
			// The server.json itself is wrong: an input error.
			return usageError(fmt.Errorf("server.json refused: %w", p))
		}
		if p.Status == http.StatusNotFound || p.Status == http.StatusMethodNotAllowed {
			return checkFailed(fmt.Errorf("%s has no publish endpoint (POST /v0.1/publish answered %d): it is not a Vetted registry; check --registry", c.base, p.Status))
		}
		return checkFailed(fmt.Errorf("publish refused: %w", p))
	}
	if asJSON {
		e.stdout.Write(b)
		if len(b) > 0 && b[len(b)-1] != '\n' {
			fmt.Fprintln(e.stdout)
		}
		return nil
	}
	var a publishAnswer
	if err := json.Unmarshal(b, &a); err != nil || a.Meta.Publish.Decision == "" {
		// Accepted, but without a decision: an official MCP registry, a proxy or a web page.
		return checkFailed(fmt.Errorf("%s answered the publish without a Vetted decision (no _meta %q): it is not a Vetted registry, or a proxy in front of one changed the answer; check --registry", c.base, "dev.vetted/publish"))
	}
	d := a.Meta.Publish
	note := ""
	if !d.Created {
		note = " (identical content was already recorded; nothing changed)"
	}
	fmt.Fprintf(e.stdout, "decision: %s%s\n", d.Decision, note)
	fmt.Fprintf(e.stdout, "server:   %s@%s\n", a.Server.Name, a.Server.Version)
	for _, pk := range a.Server.Packages {
		fmt.Fprintf(e.stdout, "package:  %s %s\n", pk.RegistryType, pk.Identifier)
	}
	if a.Meta.Vetted.ToolManifestDigest != "" {
		fmt.Fprintf(e.stdout, "tools:    %s\n", a.Meta.Vetted.ToolManifestDigest)
	}
	printChecks(e.stdout, d)
	return nil
}

func printChecks(w io.Writer, d publishDecision) {
	for _, warn := range d.Warnings {
		fmt.Fprintln(w, "warning: "+warn)
	}
	fmt.Fprintln(w, "checks:")
	for _, c := range d.Checks {
		pkg := ""
		if c.Package != "" {
			pkg = " [" + c.Package + "]"
		}
		fmt.Fprintf(w, "  %-6s %s%s: %s\n", c.Outcome, c.Name, pkg, c.Reason)
	}
}

// publishToken picks the bearer token: --token, $VETTED_TOKEN, then GitHub Actions OIDC.
func publishToken(ctx context.Context, e *env, c *regClient, flag, audience string) (tok, source string, err error) {
	if flag != "" {
		return flag, "--token", nil
	}
	if t := e.getenv("VETTED_TOKEN"); t != "" {
		return t, "$VETTED_TOKEN", nil
	}
	reqURL, reqTok := e.getenv("ACTIONS_ID_TOKEN_REQUEST_URL"), e.getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
	if reqURL == "" || reqTok == "" {
		return "", "", usageErrorf("no token: pass --token, set VETTED_TOKEN, or run in GitHub Actions with \"permissions: id-token: write\"")
	}
	if audience == "" {
		audience = registryAudience(ctx, c)
	}
	t, err := githubOIDCToken(ctx, reqURL, reqTok, audience)
	if err != nil {
		return "", "", checkFailed(fmt.Errorf("GitHub Actions OIDC token: %w", err))
	}
	return t, "GitHub Actions OIDC (audience " + audience + ")", nil
}

// registryAudience is the registry's resource identifier from its RFC 9728 metadata, or its
// base URL.
func registryAudience(ctx context.Context, c *regClient) string {
	var md struct {
		Resource string `json:"resource"`
	}
	if err := c.getJSON(ctx, "/.well-known/oauth-protected-resource", &md); err == nil && md.Resource != "" {
		return md.Resource
	}
	return c.base.String()
}

// githubOIDCToken asks the Actions runtime for an ID token with the audience.
func githubOIDCToken(ctx context.Context, reqURL, reqTok, audience string) (string, error) {
	u, err := url.Parse(reqURL)
	if err != nil {
		return "", fmt.Errorf("ACTIONS_ID_TOKEN_REQUEST_URL: %w", err)
	}
	q := u.Query()
	q.Set("audience", audience)
	u.RawQuery = q.Encode()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "bearer "+reqTok)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("token request answered %d", resp.StatusCode)
	}
	var v struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(b, &v); err != nil || v.Value == "" {
		return "", errors.New("token request answered without a token")
	}
	return v.Value, nil
}
