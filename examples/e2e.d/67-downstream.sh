#!/usr/bin/env bash
# e2e + documentation (docs/interop.md, "Status propagation to mirrors"): Vetted as the upstream
# of the official registry v1.8.0 (built from the module go.mod pins). Two versions published in
# Vetted appear downstream (seeded with MCP_REGISTRY_SEED_FROM=<Vetted>/v0/servers); a reviewer
# quarantines one in Vetted; then, within one sync, the downstream stops serving it:
#  - incremental: a poller reads Vetted's `updated_since` (status `deleted`, the public reason
#    class as statusMessage, never the reviewer's words) and applies it with the downstream's own
#    status route (PATCH …/versions/{v}/status), logged in through the downstream's generic OIDC
#    login with edit permission on the namespace;
#  - re-seed: the seed is read once, at start — a restart on the same database still serves the
#    version, a start on a fresh database does not.
set -euo pipefail
export GOTOOLCHAIN=go1.27.3
cd "$(dirname "$0")/../.."

. examples/e2e-lib.sh
install_e2e_tools

go build -o "$TMP/vetted" ./cmd/vetted
go build -o "$TMP/fake-github-oidc" ./examples/fake-github-oidc
go build -o "$TMP/weather-server" ./examples/weather-server
build_official_registry
VETTED="$TMP/vetted"
echo "ok: built vetted, the fake OIDC issuer and the official registry $(official_version)"

# --- OCI registry, a signed and attested image ----------------------------------------------
start_oci_registry
cosign_keys
"$VETTED" tools capture -o "$TMP/tools.json" -- "$TMP/weather-server"
IMAGE=$(signed_image "$REG" acme/weather 1 "$TMP/tools.json" "$TMP/cosign.key")
echo "ok: pushed, signed and attested $IMAGE"

# --- Vetted, two published versions ----------------------------------------------------------
VPORT=$(free_port)
VURL="http://127.0.0.1:$VPORT"
acme_policy
osv_go_snapshot
cat > "$TMP/vetted.yaml" <<YAML
addr: 127.0.0.1:$VPORT
data-dir: $TMP/data
auth:
  resource: $VURL
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
PUBLISHER=$("$VETTED" token issue --role publisher --namespace 'io.github.acme/*' --config "$TMP/vetted.yaml" --data-dir "$TMP/data")
REVIEWER=$("$VETTED" token issue --role reviewer --subject security@acme.example --config "$TMP/vetted.yaml" --data-dir "$TMP/data")
for v in 1.0.0 1.1.0; do
  cat > "$TMP/server-$v.json" <<JSON
{"\$schema":"https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
 "name":"io.github.acme/weather","description":"Weather forecasts","version":"$v",
 "repository":{"url":"https://github.com/acme/weather","source":"github"},
 "packages":[{"registryType":"oci","identifier":"$IMAGE","transport":{"type":"stdio"}}]}
JSON
  VETTED_TOKEN="$PUBLISHER" "$VETTED" publish "$TMP/server-$v.json" --registry "$VURL" >"$TMP/publish-$v.out" 2>&1 || { cat "$TMP/publish-$v.out"; fail "publish $v"; }
  grep -q "decision: published" "$TMP/publish-$v.out" || { cat "$TMP/publish-$v.out"; fail "$v was not published"; }
done
echo "ok: io.github.acme/weather 1.0.0 and 1.1.0 published in Vetted"

# served NAME-URL: the name@version pairs a registry lists (python reads the JSON)
listed() { curl -fsS "$1" | python3 -c 'import json,sys; print(" ".join(sorted(s["server"]["name"]+"@"+s["server"]["version"]+("/latest" if s["_meta"]["io.modelcontextprotocol.registry/official"].get("isLatest") else "") for s in json.load(sys.stdin)["servers"])))'; }
code() { curl -s -o /dev/null -w '%{http_code}' "$1"; }
V110="servers/io.github.acme%2Fweather/versions/1.1.0"

# --- The downstream: the official registry, seeded from Vetted --------------------------------
# The fake OIDC issuer stands in for the downstream operator's identity provider: the sync job
# logs in to the downstream with `POST /v0/auth/oidc` and gets edit permission on io.github.acme/*.
GH="127.0.0.1:$(free_port)"
export ACTIONS_ID_TOKEN_REQUEST_TOKEN="request-$RANDOM$RANDOM"
"$TMP/fake-github-oidc" -addr "$GH" -repository acme/sync >"$TMP/fake-oidc.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 50); do curl -fs "http://$GH/.well-known/openid-configuration" >/dev/null && break; sleep 0.2; done
export MCP_REGISTRY_OIDC_ENABLED=true MCP_REGISTRY_OIDC_ISSUER="http://$GH" MCP_REGISTRY_OIDC_CLIENT_ID=downstream-sync \
  MCP_REGISTRY_OIDC_EXTRA_CLAIMS='[{"repository":"acme/sync"}]' MCP_REGISTRY_OIDC_EDIT_PERMISSIONS='io.github.acme/*'
SEED="$VURL/v0/servers?limit=1"   # one per page: the importer pages with Vetted's cursors
DPORT=$(free_port)
start_official_registry "$DPORT" "$SEED"
DB1="${OFFICIAL_DBS[-1]}"
DOWN="$OFFICIAL_URL"
want "downstream after the first seed" "$(listed "$DOWN/v0.1/servers")" "io.github.acme/weather@1.0.0 io.github.acme/weather@1.1.0/latest"

# --- Vetted: a reviewer quarantines 1.1.0 ----------------------------------------------------
SINCE=$(curl -fsS "$VURL/v0.1/servers" | python3 -c 'import json,sys; print(max(s["_meta"]["io.modelcontextprotocol.registry/official"]["updatedAt"] for s in json.load(sys.stdin)["servers"]))')
PRIVATE="incident 4711: exfiltrates ~/.ssh, ask Dana"
curl -fsS -X POST -H "Authorization: Bearer $REVIEWER" -H 'Content-Type: application/json' -d "{\"reason\":\"$PRIVATE\"}" \
  "$VURL/v0.1/x/dev.vetted/review/$V110/quarantine" | grep -q '"status":"quarantined"' || fail "quarantine"
want "Vetted: read of the quarantined version" "$(code "$VURL/v0.1/$V110")" 404
want "Vetted: list" "$(listed "$VURL/v0.1/servers")" "io.github.acme/weather@1.0.0/latest"
# What an incremental mirror reads: updated_since (include_deleted implied, as upstream).
curl -fsS "$VURL/v0.1/servers?updated_since=$SINCE" > "$TMP/since.json"
want "Vetted: updated_since $SINCE" "$(python3 -c 'import json,sys
for s in json.load(open(sys.argv[1]))["servers"]:
    m = s["_meta"]["io.modelcontextprotocol.registry/official"]
    print(s["server"]["version"], m["status"], "|", m.get("statusMessage", ""))' "$TMP/since.json")" \
  "1.1.0 deleted | quarantined: withdrawn by the registry's security review"
grep -q "4711" "$TMP/since.json" && fail "the reviewer's private reason reached the read API"
curl -fsS "$VURL/v0.1/$V110?include_deleted=true" | grep -q '"status":"deleted"' || fail "include_deleted=true on the version route"
want "Vetted: updated_since with include_deleted=false" "$(code "$VURL/v0.1/servers?updated_since=$SINCE&include_deleted=false")" 400
echo "ok: an updated_since + include_deleted poller sees 1.1.0 with status deleted and the public reason class only"

# --- Re-seed: the seed is read once, at start --------------------------------------------------
stop_official_registry
start_official_registry "$DPORT" "$SEED" "$DB1"
want "downstream restarted on the same database (the seed adds, never removes)" "$(code "$DOWN/v0.1/$V110")" 200
stop_official_registry
start_official_registry "$(free_port)" "$SEED"
want "downstream seeded into a fresh database: read of 1.1.0" "$(code "$OFFICIAL_URL/v0.1/$V110")" 404
want "downstream seeded into a fresh database: list" "$(listed "$OFFICIAL_URL/v0.1/servers")" "io.github.acme/weather@1.0.0/latest"
stop_official_registry

# --- Incremental: the poller applies Vetted's status with the downstream's status route ------
start_official_registry "$DPORT" "" "$DB1"
want "downstream before the sync" "$(code "$DOWN/v0.1/$V110")" 200
IDTOKEN=$(curl -fsS -H "Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" "http://$GH/token?audience=downstream-sync" | python3 -c 'import json,sys; print(json.load(sys.stdin)["value"])')
DTOKEN=$(curl -fsS -X POST -H 'Content-Type: application/json' -d "{\"oidc_token\":\"$IDTOKEN\"}" "$DOWN/v0/auth/oidc" | python3 -c 'import json,sys; print(json.load(sys.stdin)["registry_token"])')
# One sync: every entry Vetted changed since the last one, its official status applied downstream.
python3 - "$TMP/since.json" > "$TMP/patches.tsv" <<'PY'
import json, sys, urllib.parse
for s in json.load(open(sys.argv[1]))["servers"]:
    m = s["_meta"]["io.modelcontextprotocol.registry/official"]
    body = {"status": m["status"]}
    if m["status"] != "active" and m.get("statusMessage"):
        body["statusMessage"] = m["statusMessage"]
    print(urllib.parse.quote(s["server"]["name"], safe=""), urllib.parse.quote(s["server"]["version"], safe=""), json.dumps(body), sep="\t")
PY
while IFS=$'\t' read -r name version body; do
  curl -fsS -X PATCH -H "Authorization: Bearer $DTOKEN" -H 'Content-Type: application/json' -d "$body" \
    "$DOWN/v0/servers/$name/versions/$version/status" >"$TMP/patch.out" || { cat "$TMP/patch.out"; fail "PATCH status of $name@$version downstream"; }
done < "$TMP/patches.tsv"
want "downstream after one sync: read of 1.1.0" "$(code "$DOWN/v0.1/$V110")" 404
want "downstream after one sync: list" "$(listed "$DOWN/v0.1/servers")" "io.github.acme/weather@1.0.0/latest"
want "downstream after one sync: 1.1.0 with include_deleted" "$(curl -fsS "$DOWN/v0.1/$V110?include_deleted=true" | python3 -c 'import json,sys; m=json.load(sys.stdin)["_meta"]["io.modelcontextprotocol.registry/official"]; print(m["status"], "|", m.get("statusMessage"))')" \
  "deleted | quarantined: withdrawn by the registry's security review"
want "downstream: latest" "$(curl -fsS "$DOWN/v0.1/servers/io.github.acme%2Fweather/versions/latest" | python3 -c 'import json,sys; print(json.load(sys.stdin)["server"]["version"])')" "1.0.0"
echo "e2e downstream: all passed"
