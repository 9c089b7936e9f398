#!/usr/bin/env bash
# e2e: `vetted verify` against what the real tools produce.
#  - Debian's docker-registry (no referrers API) on loopback: crane pushes an image, cosign
#    signs it with a key (no tlog upload), attests a syft SPDX SBOM and a SLSA provenance;
#    vetted verify passes. An unsigned image, a wrong key, a tag moved to another image and
#    a signature copied onto another image's .sig tag each fail with a named check.
#  - go-containerregistry's registry with the referrers API (attest/internal/refregistry):
#    cosign --new-bundle-format signs and attests; vetted verify passes, and fails without
#    the provenance its policy requires.
# Installs what it needs: docker-registry (apt), cosign/crane/syft at pinned versions (go install,
# skipped when the binary at that version is already there).
set -euo pipefail
export GOTOOLCHAIN=go1.27.3
cd "$(dirname "$0")/../.."

. examples/e2e-lib.sh
install_e2e_tools

go build -o "$TMP/vetted" ./cmd/vetted
go build -o "$TMP/refregistry" ./attest/internal/refregistry
VETTED="$TMP/vetted"


# docker-registry with its own config and storage.
PORT=$(free_port)
REG="127.0.0.1:$PORT"
cat > "$TMP/registry.yml" <<YAML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $TMP/registry-data
http:
  addr: $REG
YAML
docker-registry serve "$TMP/registry.yml" >"$TMP/registry.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 50); do curl -fs "http://$REG/v2/" >/dev/null && break; sleep 0.2; done
curl -fs "http://$REG/v2/" >/dev/null || { cat "$TMP/registry.log"; echo "docker-registry did not start"; exit 1; }

# go-containerregistry's registry with the referrers API.
"$TMP/refregistry" -addr 127.0.0.1:0 >"$TMP/refregistry.addr" 2>"$TMP/refregistry.log" &
PIDS+=($!)
for _ in $(seq 1 50); do [ -s "$TMP/refregistry.addr" ] && break; sleep 0.2; done
REFREG=$(cat "$TMP/refregistry.addr")

fail() { echo "FAIL: $*"; exit 1; }
# expect CODE TEXT -- vetted args: run vetted verify, check the exit code and that TEXT is in
# its combined output.
expect() {
  local code=$1 text=$2 out rc
  shift 3
  set +e
  out=$("$VETTED" verify "$@" 2>&1)
  rc=$?
  set -e
  echo "$out" | sed 's/^/    /'
  [ "$rc" = "$code" ] || fail "vetted verify $* exited $rc, want $code"
  grep -qF -- "$text" <<<"$out" || fail "vetted verify $*: output lacks '$text'"
  echo "ok: exit $rc, '$text'"
}

# An image with an npm lockfile, and its SBOM from syft.
mkdir -p "$TMP/rootfs/app"
cat > "$TMP/rootfs/app/package-lock.json" <<'JSON'
{"name":"weather","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{"":{"name":"weather","version":"1.0.0","dependencies":{"lodash":"4.17.20"}},"node_modules/lodash":{"version":"4.17.20","resolved":"https://registry.npmjs.org/lodash/-/lodash-4.17.20.tgz"}}}
JSON
tar -C "$TMP/rootfs" -cf "$TMP/layer.tar" .
syft scan "dir:$TMP/rootfs" -o "spdx-json=$TMP/sbom.spdx.json" -q
grep -q '"spdxVersion"' "$TMP/sbom.spdx.json" || fail "syft wrote no SPDX document"

cat > "$TMP/provenance.json" <<'JSON'
{"builder":{"id":"https://github.com/acme/weather/.github/workflows/release.yml@refs/heads/main"},
 "buildType":"https://github.com/slsa-framework/slsa-github-generator/generic@v1",
 "invocation":{"configSource":{"uri":"git+https://github.com/acme/weather@refs/heads/main",
   "digest":{"sha1":"0123456789abcdef0123456789abcdef01234567"},"entryPoint":".github/workflows/release.yml"},
   "environment":{"github_event_name":"push"}}}
JSON

export COSIGN_PASSWORD=""
(cd "$TMP" && cosign generate-key-pair >/dev/null 2>&1)
mkdir -p "$TMP/other" && (cd "$TMP/other" && cosign generate-key-pair >/dev/null 2>&1)
COSIGN=(--key "$TMP/cosign.key" --tlog-upload=false --yes --allow-http-registry)

cat > "$TMP/policy.yaml" <<'YAML'
authorities:
  - name: release-key
    key: {path: cosign.pub}
require: {signature: true, sbom: true, provenance: true}
builders: ["https://github.com/acme/weather/.github/workflows/release.yml@refs/heads/main"]
sourceRepository: https://github.com/acme/weather
refs: [refs/heads/main]
YAML
sed 's#cosign.pub#other/cosign.pub#' "$TMP/policy.yaml" > "$TMP/wrong-key.yaml"

echo "== legacy cosign layout on docker-registry ($REG)"
crane append -f "$TMP/layer.tar" -t "$REG/acme/weather:v1" >/dev/null 2>&1
DIGEST=$(crane digest "$REG/acme/weather:v1")
cosign sign "${COSIGN[@]}" "$REG/acme/weather@$DIGEST" >/dev/null 2>&1
cosign attest "${COSIGN[@]}" --type spdxjson --predicate "$TMP/sbom.spdx.json" "$REG/acme/weather@$DIGEST" >/dev/null 2>&1
cosign attest "${COSIGN[@]}" --type slsaprovenance --predicate "$TMP/provenance.json" "$REG/acme/weather@$DIGEST" >/dev/null 2>&1

expect 0 "PASS" -- "$REG/acme/weather:v1" --policy "$TMP/policy.yaml"
"$VETTED" verify "$REG/acme/weather:v1" --policy "$TMP/policy.yaml" --json > "$TMP/result.json"
python3 - "$TMP/result.json" "$DIGEST" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["passed"] and r["digest"] == sys.argv[2], r
kinds = sorted(i["kind"] for i in r["items"])
assert kinds == ["provenance", "sbom", "signature"], kinds
assert r["provenance"]["commit"] == "0123456789abcdef0123456789abcdef01234567", r["provenance"]
assert r["sbom"]["predicate"]["spdxVersion"].startswith("SPDX-"), r["sbom"]
print("ok: --json result has the signature, the syft SBOM and the provenance")
PY

# An unsigned image.
echo unsigned > "$TMP/unsigned.txt"
tar -C "$TMP" -cf "$TMP/unsigned.tar" unsigned.txt
crane append -f "$TMP/unsigned.tar" -t "$REG/acme/weather:unsigned" >/dev/null 2>&1
expect 1 "FAILED require.signature" -- "$REG/acme/weather:unsigned" --policy "$TMP/policy.yaml"
# A wrong key.
expect 1 "signature: authority release-key" -- "$REG/acme/weather:v1" --policy "$TMP/wrong-key.yaml"
# The tag moved to another (unsigned) image: the new digest has no evidence.
echo moved > "$TMP/moved.txt"
tar -C "$TMP" -cf "$TMP/moved.tar" moved.txt
crane append -f "$TMP/moved.tar" -t "$REG/acme/weather:v1" >/dev/null 2>&1
MOVED=$(crane digest "$REG/acme/weather:v1")
[ "$MOVED" != "$DIGEST" ] || fail "the tag did not move"
expect 1 "FAILED require.signature" -- "$REG/acme/weather:v1" --policy "$TMP/policy.yaml"
# The signature of the first image copied onto the moved image's .sig tag.
crane copy "$REG/acme/weather:sha256-${DIGEST#sha256:}.sig" "$REG/acme/weather:sha256-${MOVED#sha256:}.sig" >/dev/null 2>&1
expect 1 "subject: simplesigning payload signs $DIGEST" -- "$REG/acme/weather:v1" --policy "$TMP/policy.yaml"
# The original digest still verifies.
expect 0 "PASS" -- "$REG/acme/weather@$DIGEST" --policy "$TMP/policy.yaml"

echo "== cosign --new-bundle-format on a registry with referrers ($REFREG)"
crane append -f "$TMP/layer.tar" -t "$REFREG/acme/weather:v2" >/dev/null 2>&1
D2=$(crane digest "$REFREG/acme/weather:v2")
cosign sign "${COSIGN[@]}" --new-bundle-format "$REFREG/acme/weather@$D2" >/dev/null 2>&1
cosign attest "${COSIGN[@]}" --new-bundle-format --type spdxjson --predicate "$TMP/sbom.spdx.json" "$REFREG/acme/weather@$D2" >/dev/null 2>&1
expect 1 "FAILED require.provenance" -- "$REFREG/acme/weather:v2" --policy "$TMP/policy.yaml"
cosign attest "${COSIGN[@]}" --new-bundle-format --type slsaprovenance --predicate "$TMP/provenance.json" "$REFREG/acme/weather@$D2" >/dev/null 2>&1
expect 0 "PASS" -- "$REFREG/acme/weather:v2" --policy "$TMP/policy.yaml"
curl -fs "http://$REFREG/v2/acme/weather/referrers/$D2" | grep -q 'sigstore' || fail "no referrers were written"
expect 1 "signature: authority release-key" -- "$REFREG/acme/weather:v2" --policy "$TMP/wrong-key.yaml"

echo "e2e verify: all passed"
