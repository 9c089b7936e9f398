#!/usr/bin/env bash
# e2e: Vetted against a real, certified OpenID provider — panva's oidc-provider (npm, pinned
# in examples/e2e.d/oidc/package.json) on loopback over HTTPS with a test CA this script
# makes — configured as docs/auth.md ("Identity providers") says, with no outbound
# allow_hosts: the issuer's host is allowed by itself.
#   - the provider is down when Vetted starts: Vetted starts and serves reads;
#   - a CI client gets a JWT access token by client_credentials with a resource indicator
#     (aud = Vetted's URL) and publishes: authorized, then judged by the pipeline;
#   - tokens for another audience, and from a look-alike provider claiming the same issuer
#     (same key id, another key), are refused;
#   - a reviewer signs in to /ui in Chromium through the real authorization code + PKCE flow
#     (groups asked for by default) and reads the queue; a publisher is refused there;
#   - the provider rotates its key: a token signed with the new key works at once, and one
#     signed with the dropped key is refused.
set -euo pipefail
export GOTOOLCHAIN=go1.27.3
cd "$(dirname "$0")/../.."

. examples/e2e-lib.sh
fail() { echo "FAIL: $*"; for f in "$TMP"/*.log; do echo "--- $f"; tail -n 30 "$f"; done; exit 1; }

# --- What this needs: Node packages at pinned versions, Chromium, openssl -------------------
NPMDIR="${VETTED_E2E_CACHE:-$HOME/.cache/vetted-e2e}/oidc"
mkdir -p "$NPMDIR"
if ! cmp -s examples/e2e.d/oidc/package.json "$NPMDIR/package.json" || [ ! -d "$NPMDIR/node_modules/oidc-provider" ]; then
  cp examples/e2e.d/oidc/package.json "$NPMDIR/package.json"
  (cd "$NPMDIR" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi
cp examples/e2e.d/oidc/provider.mjs examples/e2e.d/oidc/browser.mjs "$NPMDIR/"
if ! command -v chromium >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >/dev/null ||
    { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >/dev/null; }
fi
CHROMIUM=$(command -v chromium)
go build -o "$TMP/vetted" ./cmd/vetted
VETTED="$TMP/vetted"

# --- A test CA and the provider's certificate for 127.0.0.1 ---------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=Vetted e2e test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout "$TMP/ca.key" -out "$TMP/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$TMP/idp.key" -out "$TMP/idp.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$TMP/idp.ext"
openssl x509 -req -in "$TMP/idp.csr" -CA "$TMP/ca.pem" -CAkey "$TMP/ca.key" -CAcreateserial -days 1 \
  -extfile "$TMP/idp.ext" -out "$TMP/idp.pem" 2>/dev/null
# Chromium trusts exactly this certificate's key (no system trust store is touched).
SPKI=$(openssl x509 -in "$TMP/idp.pem" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)

IPORT=$(free_port)
ISSUER="https://127.0.0.1:$IPORT"
VPORT=$(free_port)
VURL="http://127.0.0.1:$VPORT"
SECRET=$(openssl rand -hex 16)
# (oidc-provider 9 warns that it wants Node 22; it runs on the Node 20 these machines have.)
for k in key-1 key-2; do node "$NPMDIR/provider.mjs" genkey "$k" > "$TMP/jwks-$k.json" 2>/dev/null; done
node "$NPMDIR/provider.mjs" genkey key-1 > "$TMP/jwks-lookalike.json" 2>/dev/null # same key id, another key

PROVIDER_PID=""
start_provider() { # jwks-file [port]
  local port=${2:-$IPORT}
  ISSUER="$ISSUER" PORT="$port" TLS_CERT="$TMP/idp.pem" TLS_KEY="$TMP/idp.key" JWKS_FILE="$1" \
    VETTED_URL="$VURL" CLIENT_SECRET="$SECRET" node "$NPMDIR/provider.mjs" >>"$TMP/provider-$port.log" 2>&1 &
  PIDS+=($!)
  PROVIDER_PID=$!
  for _ in $(seq 1 100); do
    curl -fs --cacert "$TMP/ca.pem" "https://127.0.0.1:$port/.well-known/openid-configuration" >/dev/null && return 0
    sleep 0.1
  done
  fail "oidc-provider did not start on $port"
}
# token AUDIENCE [port]: a client_credentials access token for AUDIENCE (resource indicator).
token() {
  curl -fsS --cacert "$TMP/ca.pem" -u "ci-publisher:$SECRET" -d grant_type=client_credentials \
    --data-urlencode "resource=$1" -d scope=publish "https://127.0.0.1:${2:-$IPORT}/token" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
claim() { # token claim
  python3 -c 'import base64,json,sys; p=sys.argv[1].split(".")[1]; p+="="*(-len(p)%4); v=json.loads(base64.urlsafe_b64decode(p)); print(v.get(sys.argv[2], ""))' "$1" "$2"
}
header() { # token field
  python3 -c 'import base64,json,sys; p=sys.argv[1].split(".")[0]; p+="="*(-len(p)%4); print(json.loads(base64.urlsafe_b64decode(p)).get(sys.argv[2], ""))' "$1" "$2"
}
# publish TOKEN: POST the server.json; prints "STATUS BODY".
publish() {
  local code
  code=$(curl -s -o "$TMP/publish.out" -w '%{http_code}' -X POST -H "Authorization: Bearer $1" \
    -H 'Content-Type: application/json' --data @"$TMP/server.json" "$VURL/v0.1/publish")
  echo "$code $(cat "$TMP/publish.out")"
}

# --- Vetted, configured as docs/auth.md shows; the provider is not up yet ---------------------
openssl ecparam -genkey -name prime256v1 -noout 2>/dev/null | openssl ec -pubout 2>/dev/null > "$TMP/release.pub"
cat > "$TMP/acme-policy.yaml" <<'YAML'
authorities:
  - name: release-key
    key: {path: release.pub}
require: {signature: true, sbom: false}
YAML
DEAD=$(free_port) # an OCI registry that is not there: the pipeline judges, after auth
cat > "$TMP/server.json" <<JSON
{"\$schema":"https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
 "name":"io.github.acme/weather","description":"Weather forecasts","version":"1.0.0",
 "packages":[{"registryType":"oci","identifier":"localhost:$DEAD/acme/weather@sha256:$(printf x | sha256sum | cut -d' ' -f1)","transport":{"type":"stdio"}}]}
JSON
cat > "$TMP/vetted.yaml" <<YAML
addr: 127.0.0.1:$VPORT
data-dir: $TMP/data
auth:
  resource: $VURL
  issuers:
    - issuer: $ISSUER
      roles_claim: groups
      role_mapping: {security: reviewer, release-engineers: publisher}
      audiences: [$VURL, vetted-ui]        # CI access tokens; the UI's ID tokens (aud = client id)
  publishers:
    - namespace: io.github.acme/*
      issuer: $ISSUER
      claims: {client_id: ci-publisher}
ui:
  oidc:
    name: Acme SSO
    issuer: $ISSUER
    client_id: vetted-ui
    client_secret_env: VETTED_UI_CLIENT_SECRET
outbound:                                # the issuer's host (127.0.0.1) is allowed by itself
  allow_hosts: [localhost]               # the (absent) OCI registry
  allow_networks: [127.0.0.0/8, "::1/128"]   # the provider and the registry are on loopback here
  ca_file: $TMP/ca.pem
publish:
  policies:
    - namespace: io.github.acme/*
      policy: acme-policy.yaml
  insecure_registries: ["localhost:$DEAD"]
YAML

echo "== the provider is down when Vetted starts"
VETTED_UI_CLIENT_SECRET="$SECRET" "$VETTED" serve --config "$TMP/vetted.yaml" >"$TMP/serve.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do curl -fs "$VURL/readyz" >/dev/null && break; sleep 0.2; done
curl -fs "$VURL/readyz" >/dev/null || fail "vetted serve did not start with the provider down"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$VURL/v0.1/servers")" = 200 ] || fail "reads with the provider down"
curl -fs "$VURL/ui/login" | grep -q "Sign in with Acme SSO" || fail "login page with the provider down"
echo "ok: provider down at start: vetted serve started and serves reads and the login page"

start_provider "$TMP/jwks-key-1.json"
REAL_PID=$PROVIDER_PID

echo "== a CI client: client_credentials with a resource indicator"
CI=$(token "$VURL")
[ "$(claim "$CI" aud)" = "$VURL" ] || fail "CI token aud $(claim "$CI" aud), want $VURL"
[ "$(header "$CI" typ)" = "at+jwt" ] || fail "not a JWT access token"
echo "ok: CI access token is a JWT (typ at+jwt) with aud = $VURL, sub = $(claim "$CI" sub)"
out=$(publish "$CI")
echo "    $out" | cut -c1-300
case "$out" in
  401*|403*) fail "CI publish refused by auth: $out" ;;
  422*|400*) grep -q '"check"\|rejected\|signature' <<<"$out" || fail "CI publish not judged by the pipeline: $out" ;;
  *) fail "CI publish: unexpected answer $out" ;;
esac
echo "ok: CI token publishes: authorized as publisher of io.github.acme/*, then judged by the pipeline (${out%% *})"

echo "== refused tokens"
OTHER=$(token https://other-registry.example)
out=$(publish "$OTHER")
[[ "$out" == 401* && "$out" == *'"reason":"wrong audience"'* ]] || fail "wrong-audience token: $out"
echo "ok: a token for another audience is refused: 401 wrong audience"
LPORT=$(free_port)
start_provider "$TMP/jwks-lookalike.json" "$LPORT"
LOOKALIKE_PID=$PROVIDER_PID
EVIL=$(token "$VURL" "$LPORT")
[ "$(claim "$EVIL" iss)" = "$ISSUER" ] && [ "$(header "$EVIL" kid)" = key-1 ] || fail "the look-alike token does not claim the issuer and key id"
out=$(publish "$EVIL")
[[ "$out" == 401* && "$out" == *'"reason":"invalid signature"'* ]] || fail "look-alike token: $out"
echo "ok: a token from a look-alike provider (same iss, same kid, another key) is refused: 401 invalid signature"
kill "$LOOKALIKE_PID"

echo "== reviewers sign in to /ui in Chromium (authorization code + PKCE)"
out=$(node "$NPMDIR/browser.mjs" "$CHROMIUM" "$VURL" rita "$SPKI") || fail "browser: $out"
echo "    $out" | cut -c1-300
python3 - "$out" <<'PY' || fail "reviewer in the browser: $out"
import json, sys
r = json.loads(sys.argv[1])
assert r["status"] == 200 and r["url"].endswith("/ui/queue"), r
assert "rita@acme.example" in r["text"], r
PY
echo "ok: reviewer rita signed in through the provider's login and consent pages (groups asked for by default), reads the queue, shown as rita@acme.example"
out=$(node "$NPMDIR/browser.mjs" "$CHROMIUM" "$VURL" paul "$SPKI") || fail "browser: $out"
echo "    $out" | cut -c1-300
python3 - "$out" <<'PY' || fail "publisher in the browser: $out"
import json, sys
r = json.loads(sys.argv[1])
assert r["status"] == 403 and "reviewers" in r["text"] and "publisher" in r["text"], r
PY
echo "ok: publisher paul signs in but is refused the pages: 403"

echo "== the provider rotates its key"
kill "$REAL_PID"; wait "$REAL_PID" 2>/dev/null || true
start_provider "$TMP/jwks-key-2.json"
NEW=$(token "$VURL")
[ "$(header "$NEW" kid)" = key-2 ] || fail "the rotated provider signs with $(header "$NEW" kid)"
fetches() { grep -c 'msg="issuer keys fetched"' "$TMP/serve.log" || true; }
before=$(fetches)
start=$(date +%s%N)
out=$(publish "$NEW")
ms=$(( ($(date +%s%N) - start) / 1000000 ))
case "$out" in 401*|403*) fail "new-key token refused after rotation: $out" ;; esac
[ "$(( $(fetches) - before ))" = 1 ] || fail "key fetches for the new key: $(( $(fetches) - before )), want 1"
echo "ok: a token signed with the new key works at once, its first use (${ms} ms, one key fetch): ${out%% *}"
out=$(publish "$CI")
[[ "$out" == 401* && "$out" == *'"reason":"unknown signing key"'* ]] || fail "dropped-key token: $out"
echo "ok: a token signed with the dropped key is refused: 401 unknown signing key"
echo "e2e oidc: all passed"
