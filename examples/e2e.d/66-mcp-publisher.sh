#!/usr/bin/env bash
# e2e: the official publisher CLI, unchanged, against Vetted (issue 13 item 3). The real
# mcp-publisher (built from the pinned github.com/modelcontextprotocol/registry module) logs in
# with `login github-oidc` — against a local stand-in for GitHub Actions' OIDC token service
# (examples/fake-github-oidc: same discovery/JWKS shape, same ACTIONS_ID_TOKEN_REQUEST_URL
# protocol) — and publishes a signed image's server.json: published. A version that the
# pipeline holds for review is NOT reported as published (202: the CLI prints the held
# decision and fails). `validate` is a dry run (nothing recorded), refused logins name the one
# to use, and `status` answers 501 with the desk's route.
set -euo pipefail
export GOTOOLCHAIN=go1.27.3
cd "$(dirname "$0")/../.."

. examples/e2e-lib.sh
install_e2e_tools

go build -o "$TMP/vetted" ./cmd/vetted
go build -o "$TMP/fake-github-oidc" ./examples/fake-github-oidc
go build -o "$TMP/weather-server" ./examples/weather-server
build_mcp_publisher
VETTED="$TMP/vetted"
echo "ok: built vetted, the fake GitHub OIDC issuer and mcp-publisher $(official_version)"

# --- OCI registry: 1.0.0's image, and 1.1.0's whose tool description changed ----------------
start_oci_registry
cosign_keys
"$VETTED" tools capture -o "$TMP/tools.json" -- "$TMP/weather-server"
WEATHER_DESCRIPTION="Get tomorrow's weather forecast for a city, in Celsius." "$VETTED" tools capture -o "$TMP/tools-changed.json" -- "$TMP/weather-server"
IMAGE1=$(signed_image "$REG" acme/weather 1.0.0 "$TMP/tools.json" "$TMP/cosign.key")
IMAGE2=$(signed_image "$REG" acme/weather 1.1.0 "$TMP/tools-changed.json" "$TMP/cosign.key")
echo "ok: pushed, signed and attested $IMAGE1 and $IMAGE2"

# --- The fake GitHub OIDC issuer and Vetted ---------------------------------------------------
GH="127.0.0.1:$(free_port)"
export ACTIONS_ID_TOKEN_REQUEST_TOKEN="request-$RANDOM$RANDOM"
"$TMP/fake-github-oidc" -addr "$GH" -repository acme/weather >"$TMP/fake-github.log" 2>&1 &
PIDS+=($!)
export ACTIONS_ID_TOKEN_REQUEST_URL="http://$GH/token?api-version=2.0"
VPORT=$(free_port)
VURL="http://127.0.0.1:$VPORT"
acme_policy
osv_go_snapshot
cat > "$TMP/vetted.yaml" <<YAML
addr: 127.0.0.1:$VPORT
data-dir: $TMP/data
auth:
  resource: $VURL
  issuers:
    - issuer: http://$GH
      allow_http_loopback: true
  publishers:
    - namespace: io.github.acme/*
      issuer: http://$GH
      claims: {repository_owner: acme}
  token_exchange:
    github_oidc: {issuer: "http://$GH"}
outbound:
  allow_hosts: ["127.0.0.1"]
  allow_networks: [127.0.0.0/8]
publish:
  policies:
    - namespace: io.github.acme/*
      policy: acme-policy.yaml
  insecure_registries: ["$REG"]
  osv_dir: osv
YAML
start_vetted "$TMP/vetted.yaml" "$VURL"
for _ in $(seq 1 50); do curl -fs "http://$GH/.well-known/jwks" >/dev/null && break; sleep 0.2; done

export HOME="$TMP/home"   # mcp-publisher keeps its token under ~/.config/mcp-publisher
mkdir -p "$HOME"
mp() { "$MCP_PUBLISHER" "$@" >"$TMP/mp.out" 2>&1; }

# --- login github-oidc ----------------------------------------------------------------------
mp login github-oidc --registry "$VURL" || { cat "$TMP/mp.out"; fail "mcp-publisher login github-oidc"; }
grep -q "Successfully logged in" "$TMP/mp.out" || { cat "$TMP/mp.out"; fail "login did not report success"; }
grep -q 'msg="token exchanged" log=audit method=github-oidc' "$TMP/serve.log" || fail "the exchange is not in the audit log"
echo "ok: mcp-publisher login github-oidc exchanged the GitHub Actions token for a Vetted token"

server_json() { # version image
  cat > "$TMP/server.json" <<JSON
{"\$schema":"https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
 "name":"io.github.acme/weather","description":"Weather forecasts","version":"$1",
 "repository":{"url":"https://github.com/acme/weather","source":"github"},
 "packages":[{"registryType":"oci","identifier":"$2","transport":{"type":"stdio"}}]}
JSON
}

# --- validate: a dry run ----------------------------------------------------------------------
server_json 1.0.0 "$IMAGE1"
(cd "$TMP" && mp validate server.json) || { cat "$TMP/mp.out"; fail "mcp-publisher validate"; }
grep -q "server.json is valid" "$TMP/mp.out" || { cat "$TMP/mp.out"; fail "validate did not say valid"; }
code=$(curl -s -o /dev/null -w '%{http_code}' "$VURL/v0.1/servers/io.github.acme%2Fweather/versions/1.0.0")
[ "$code" = 404 ] || fail "validate recorded the version ($code)"
echo "ok: mcp-publisher validate ran the pipeline as a dry run (valid, nothing recorded)"

# --- publish: published ---------------------------------------------------------------------
(cd "$TMP" && mp publish server.json) || { cat "$TMP/mp.out"; fail "mcp-publisher publish 1.0.0"; }
grep -q "Successfully published" "$TMP/mp.out" || { cat "$TMP/mp.out"; fail "publish did not report success"; }
curl -fs "$VURL/v0.1/servers/io.github.acme%2Fweather/versions/1.0.0" | grep -q '"status":"active"' || fail "1.0.0 is not served"
grep -q 'github-oidc' "$TMP/serve.log" || fail "no audit trace of the exchanged identity"
echo "ok: mcp-publisher publish → published and served"

# --- a held version is not reported as published --------------------------------------------
server_json 1.1.0 "$IMAGE2"   # the tool's description changed: held for review (tools.diff)
if (cd "$TMP" && mp publish server.json); then cat "$TMP/mp.out"; fail "a held version was reported as a success"; fi
grep -q "Successfully published" "$TMP/mp.out" && { cat "$TMP/mp.out"; fail "a held version was reported as published"; }
grep -q "server returned status 202" "$TMP/mp.out" && grep -q '"decision":"pending_review"' "$TMP/mp.out" && grep -q '"name":"tools.diff"' "$TMP/mp.out" ||
  { cat "$TMP/mp.out"; fail "the held decision (tools.diff) was not printed"; }
code=$(curl -s -o /dev/null -w '%{http_code}' "$VURL/v0.1/servers/io.github.acme%2Fweather/versions/1.1.0")
[ "$code" = 404 ] || fail "the held version is served ($code)"
echo "ok: a version held for review: mcp-publisher prints 'server returned status 202 … pending_review' and exits non-zero"

# --- refused logins and status --------------------------------------------------------------
if mp login none --registry "$VURL"; then fail "login none succeeded while disabled"; fi
grep -q "login none is disabled" "$TMP/mp.out" && grep -q "login github-oidc" "$TMP/mp.out" || { cat "$TMP/mp.out"; fail "login none: no advice"; }
if mp login dns --registry "$VURL" --domain example.com --private-key "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"; then fail "login dns succeeded"; fi
grep -q "login dns is not accepted" "$TMP/mp.out" || { cat "$TMP/mp.out"; fail "login dns: no refusal naming the login to use"; }
echo "ok: refused logins (none disabled, dns) name the login to use"
mp login github-oidc --registry "$VURL" || fail "second login"
if mp status --status deprecated io.github.acme/weather 1.0.0; then fail "status succeeded"; fi
grep -q "501" "$TMP/mp.out" || { cat "$TMP/mp.out"; fail "status: not a 501"; }
echo "ok: mcp-publisher status → 501 naming the review desk's route"
echo "e2e mcp-publisher: all passed"
