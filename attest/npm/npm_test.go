package npm

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func TestParseSpec(t *testing.T) {
	good := map[string][2]string{
		"gundam-visor@1.0.1":                            {"gundam-visor", "1.0.1"},
		"@laurentsimon/provenance-npm-test@1.0.5":       {"@laurentsimon/provenance-npm-test", "1.0.5"},
		"a@1.0.0-rc.1+build.5":                          {"a", "1.0.0-rc.1+build.5"},
		"@modelcontextprotocol/server-everything@0.6.2": {"@modelcontextprotocol/server-everything", "0.6.2"},
	}
	for spec, want := range good {
		n, v, err := ParseSpec(spec)
		if err != nil || n != want[0] || v != want[1] {
			t.Errorf("%s: %q %q %v", spec, n, v, err)
		}
	}
	bad := map[string]string{
		"gundam-visor":                      "want NAME@VERSION",
		"gundam-visor@latest":               "dist-tags and ranges are refused",
		"gundam-visor@^1.0.0":               "not an exact version",
		"gundam-visor@1.x":                  "not an exact version",
		"gundam-visor@v1.0.0":               "not an exact version",
		"gundam-visor@01.0.0":               "not an exact version",
		"Gundam@1.0.0":                      "not a valid npm package name",
		"@scope@1.0.0":                      "not a valid npm package name",
		"../etc/passwd@1.0.0":               "not a valid npm package name",
		"@1.0.0":                            "want NAME@VERSION",
		"a b@1.0.0":                         "not a valid npm package name",
		"@s/n/x@1.0.0":                      "not a valid npm package name",
		strings.Repeat("a", 215) + "@1.0.0": "longer than 214",
	}
	for spec, why := range bad {
		if _, _, err := ParseSpec(spec); !errors.Is(err, ErrSpec) || !strings.Contains(err.Error(), why) {
			t.Errorf("%s: %v (want %q)", spec, err, why)
		}
	}
}

func TestPURL(t *testing.T) {
	if got := PURL("@laurentsimon/provenance-npm-test", "1.0.5"); got != "pkg:npm/%40laurentsimon/provenance-npm-test@1.0.5" {
		t.Fatal(got)
	}
	for _, p := range []string{"pkg:npm/%40laurentsimon/provenance-npm-test@1.0.5", "pkg:npm/@laurentsimon/provenance-npm-test@1.0.5"} {
		n, v, err := ParsePURL(p)
		if err != nil || n != "@laurentsimon/provenance-npm-test" || v != "1.0.5" {
			t.Fatalf("%s: %q %q %v", p, n, v, err)
		}
	}
	for _, p := range []string{"pkg:pypi/x@1", "pkg:npm/x", "pkg:npm/x@1.0.0?arch=x", "pkg:npm/x@1.0.0#sub", "pkg:npm/%zz@1"} {
		if _, _, err := ParsePURL(p); !errors.Is(err, ErrSpec) {
			t.Errorf("%s: %v", p, err)
		}
	}
}

func TestCheckIntegrity(t *testing.T) {
	tgz := []byte("not really a tarball")
	d := Sum(tgz)
	integ := Integrity(d.SHA512)
	if got, err := CheckIntegrity(tgz, integ); err != nil || got != d {
		t.Fatal(err)
	}
	if _, err := CheckIntegrity(tgz, "sha1-abc "+integ); err != nil {
		t.Fatalf("weaker hashes beside sha512 are ignored: %v", err)
	}
	other := Integrity(Sum([]byte("other")).SHA512)
	for in, why := range map[string]string{
		other:                               "tarball sha512 is",
		"sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=": "no sha512 digest",
		"":                                  "no sha512 digest",
		"sha512-!!!":                        "not a sha512 digest",
		"sha512-AAAA":                       "not a sha512 digest",
		integ + " " + other:                 "two different sha512 digests",
	} {
		if _, err := CheckIntegrity(tgz, in); !errors.Is(err, ErrIntegrity) || !strings.Contains(err.Error(), why) {
			t.Errorf("%q: %v (want %q)", in, err, why)
		}
	}
}

func TestKeys(t *testing.T) {
	keys := DefaultKeys()
	if len(keys) != 2 || keys[0].KeyID != "SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA" || keys[0].Expires == nil ||
		keys[0].Expires.Format("2006-01-02") != "2025-01-29" || keys[1].Expires != nil {
		t.Fatalf("%+v", keys)
	}
	for doc, why := range map[string]string{
		`{}`:                                    `no "keys" list`,
		`{"keys":[{"keyid":"a","key":"AAAA"}]}`: "key a",
		`{"keys":[{"keyid":"","key":"AAAA"}]}`:  "no keyid",
		`{"keys":[{"keyid":"a","keytype":"rsa","key":"AAAA"}]}`:               "not ecdsa-sha2-nistp256",
		`{"keys":[{"keyid":"a","key":"x"},{"keyid":"a","key":"x"}],"keys":1}`: "duplicate",
	} {
		if _, err := ParseKeys([]byte(doc)); !errors.Is(err, ErrKeys) || !strings.Contains(err.Error(), why) {
			t.Errorf("%s: %v (want %q)", doc, err, why)
		}
	}
	twice := `{"keys":[` + strings.Repeat(`{"keyid":"SHA256:x","key":"`+keys[1].Key+`","expires":null},`, 2)
	if _, err := ParseKeys([]byte(strings.TrimSuffix(twice, ",") + `]}`)); err == nil || !strings.Contains(err.Error(), "appears twice") {
		t.Fatal(err)
	}
}

func TestParseAttestations(t *testing.T) {
	for doc, why := range map[string]string{
		`{"attestations":[]}`:                                    "no attestations",
		`{"attestations":[{"bundle":{}}]}`:                       "no predicateType",
		`{"attestations":[{"predicateType":"x","bundle":"b"}]}`:  "not an object",
		`{"attestations":[{"predicateType":"x","bundle":{}}]} x`: "trailing data",
		`[1]`: "cannot unmarshal",
		`{"attestations":[` + strings.TrimSuffix(strings.Repeat(`{"predicateType":"x","bundle":{}},`, 17), ",") + `]}`: "17 attestations, limit 16",
	} {
		if _, err := ParseAttestations([]byte(doc)); !errors.Is(err, ErrAttestations) || !strings.Contains(err.Error(), why) {
			t.Errorf("%s: %v (want %q)", doc, err, why)
		}
	}
}

func FuzzParseAttestations(f *testing.F) {
	for _, name := range []string{"gundam-visor-cli-v1-tag", "provenance-npm-test-ossf"} {
		if b, err := os.ReadFile("../../../shared/testdata/npm/" + name + ".tgz.json"); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"attestations":[{"predicateType":"x","bundle":{}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		atts, err := ParseAttestations(data)
		if err == nil && (len(atts) == 0 || len(atts) > MaxAttestations) {
			t.Fatal(len(atts))
		}
	})
}

func FuzzParseSpecAndPURL(f *testing.F) {
	f.Add("@scope/name@1.0.0-rc.1")
	f.Add("pkg:npm/%40scope/name@1.0.0")
	f.Fuzz(func(t *testing.T, s string) {
		if n, v, err := ParseSpec(s); err == nil {
			n2, v2, err := ParsePURL(PURL(n, v))
			if err != nil || n2 != n || v2 != v {
				t.Fatalf("%q: purl round trip %q %q %v", s, n2, v2, err)
			}
		}
		_, _, _ = ParsePURL(s)
	})
}

func FuzzIntegrity(f *testing.F) {
	f.Add([]byte("tgz"), Integrity(Sum([]byte("tgz")).SHA512))
	f.Add([]byte("x"), "sha1-abc sha512-AAAA")
	f.Fuzz(func(t *testing.T, tgz []byte, integ string) {
		if d, err := CheckIntegrity(tgz, integ); err == nil && Integrity(d.SHA512) == "" {
			t.Fatal("passed without a digest")
		}
	})
}

func FuzzParseKeys(f *testing.F) {
	f.Add(shippedKeys)
	f.Add([]byte(`{"keys":[{"keyid":"a","key":"AAAA"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := ParseKeys(data)
		if err == nil {
			if err := ValidateKeys(keys); err != nil {
				t.Fatal(err)
			}
		}
	})
}
