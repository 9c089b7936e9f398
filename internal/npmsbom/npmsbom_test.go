package npmsbom

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/internal/testenv"
)

func tgz(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

type cdx struct {
	Components []struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		PURL    string `json:"purl"`
	} `json:"components"`
}

func components(t *testing.T, sbom []byte) map[string]string {
	t.Helper()
	var d cdx
	if err := json.Unmarshal(sbom, &d); err != nil {
		t.Fatalf("%v: %.300s", err, sbom)
	}
	out := map[string]string{}
	for _, c := range d.Components {
		out[c.Name] = c.Version
	}
	return out
}

const lock = `{"name":"weather","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{
"":{"name":"weather","version":"1.0.0","dependencies":{"lodash":"^4.17.0"}},
"node_modules/lodash":{"version":"4.17.20","resolved":"https://registry.npmjs.org/lodash/-/lodash-4.17.20.tgz","integrity":"sha512-PlhdFcillOINfeV7Ni6oF1TAEayyZBoZ8bcshTHqOYJYlrqzRK5hagpagky5o4HfCzzd1TRkXPMFq6cKk9rGmA=="}}}`

func TestGenerate(t *testing.T) {
	ctx := context.Background()
	t.Run("lockfile pins the dependencies", func(t *testing.T) {
		res, err := Generator{}.Generate(ctx, tgz(t, map[string]string{
			"package/package.json":      `{"name":"weather","version":"1.0.0","dependencies":{"lodash":"^4.17.0"}}`,
			"package/package-lock.json": lock,
			"package/index.js":          "x",
			"../escape/package.json":    `{}`,
		}))
		if err != nil {
			t.Fatal(err)
		}
		if c := components(t, res.SBOM); c["lodash"] != "4.17.20" || res.Lockfile != "package-lock.json" || len(res.Unpinned) != 0 {
			t.Fatalf("%v %+v", c, res)
		}
	})
	// npm pack drops package-lock.json but keeps npm-shrinkwrap.json: that is the lockfile a
	// published package ships, and npm reads it in preference to a package-lock.json.
	t.Run("npm-shrinkwrap.json pins the dependencies", func(t *testing.T) {
		for name, files := range map[string]map[string]string{
			"alone": {"package/npm-shrinkwrap.json": lock},
			"over a package-lock.json": {"package/npm-shrinkwrap.json": lock,
				"package/package-lock.json": strings.ReplaceAll(lock, "4.17.20", "4.17.21")},
		} {
			files["package/package.json"] = `{"name":"weather","version":"1.0.0","dependencies":{"lodash":"^4.17.0"}}`
			res, err := Generator{}.Generate(ctx, tgz(t, files))
			if err != nil {
				t.Fatal(err)
			}
			if c := components(t, res.SBOM); c["lodash"] != "4.17.20" || res.Lockfile != "npm-shrinkwrap.json" || len(res.Unpinned) != 0 {
				t.Fatalf("%s: components %v, lockfile %q, unpinned %v", name, c, res.Lockfile, res.Unpinned)
			}
		}
	})
	t.Run("ranges without a lockfile are unpinned", func(t *testing.T) {
		tb, err := os.ReadFile(testenv.SharedTestdata(t, "npm", "provenance-npm-test-cli-v1-prega.tgz"))
		if err != nil {
			t.Fatal(err)
		}
		res, err := Generator{}.Generate(ctx, tb)
		if err != nil {
			t.Fatal(err)
		}
		if res.Lockfile != "" || len(res.Unpinned) != 6 || res.Unpinned[0] != "@sigstore/bundle@^2.3.2" || !json.Valid(res.SBOM) ||
			!strings.Contains(string(res.SBOM), "CycloneDX") {
			t.Fatalf("%+v", res.Unpinned)
		}
	})
	t.Run("exact versions are pinned", func(t *testing.T) {
		res, err := Generator{}.Generate(ctx, tgz(t, map[string]string{
			"package/package.json": `{"name":"w","version":"1.0.0","dependencies":{"a":"1.2.3","b":"latest","c":"git+https://x/y"},"devDependencies":{"d":"^1"}}`,
		}))
		if err != nil || strings.Join(res.Unpinned, ",") != "b@latest,c@git+https://x/y" {
			t.Fatalf("%v %+v", err, res)
		}
	})
	for name, in := range map[string][]byte{
		"not gzip":         []byte("plain"),
		"no package.json":  tgz(t, map[string]string{"package/index.js": "x"}),
		"bad package.json": tgz(t, map[string]string{"package/package.json": "{"}),
	} {
		if _, err := (Generator{}).Generate(ctx, in); !errors.Is(err, ErrTarball) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
