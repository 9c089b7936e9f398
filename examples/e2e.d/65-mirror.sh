#!/usr/bin/env bash
# e2e + documentation: curate from an upstream registry (docs/mirror.md). The upstream is the
# official registry v1.8.0 (built from the module go.mod pins, on the local PostgreSQL), seeded
# with servers whose OCI images live in a local docker-registry: one signed, attested and clean
# by acme's key, one whose tool description changed since (held for review), one unsigned, one
# signed by another key, and one in a namespace the curation list does not name.
# `vetted mirror` admits exactly the right ones, through the publish pipeline, under the
# curation policy; the report and the metrics match; a second run is a no-op; an upstream that
# changes a stored version's content is refused; an upstream deletion quarantines the local copy.
set -euo pipefail
export GOTOOLCHAIN=go1.27.3
cd "$(dirname "$0")/../.."

. examples/e2e-lib.sh
install_e2e_tools
fail() { echo "FAIL: $*"; exit 1; }

go build -o "$TMP/vetted" ./cmd/vetted
go build -o "$TMP/weather-server" ./examples/weather-server
VETTED="$TMP/vetted"

# --- The OCI registry and the images the upstream's servers name ---------------------------
start_oci_registry

cosign_keys other

build_image() { # repo tag → prints the tag reference; SBOM in $TMP/sbom-TAG.spdx.json
  local repo=$1 tag=$2 root="$TMP/rootfs-$2"
  mkdir -p "$root/app"
  cp "$TMP/weather-server" "$root/app/weather-server"
  echo "$tag" > "$root/app/build-id"
  tar -C "$root" -cf "$TMP/layer-$tag.tar" .
  crane append -f "$TMP/layer-$tag.tar" -t "$REG/$repo:$tag" >/dev/null 2>&1
  syft scan "dir:$root" -o "spdx-json=$TMP/sbom-$tag.spdx.json" -q
  echo "$REG/$repo:$tag"
}
sign_and_attest() { # ref tag tools key
  local ref=$1 tag=$2 tools=$3 key=$4
  local args=(--key "$key" --tlog-upload=false --yes --allow-http-registry)
  cosign sign "${args[@]}" "$ref" >/dev/null 2>&1
  cosign attest "${args[@]}" --type spdxjson --predicate "$TMP/sbom-$tag.spdx.json" "$ref" >/dev/null 2>&1
  cosign attest "${args[@]}" --type "$TOOLS_TYPE" --predicate "$tools" "$ref" >/dev/null 2>&1
}
"$VETTED" tools capture -o "$TMP/tools.json" -- "$TMP/weather-server"
WEATHER_DESCRIPTION="Get tomorrow's weather forecast for a city, in Celsius." "$VETTED" tools capture -o "$TMP/tools-changed.json" -- "$TMP/weather-server"

GOOD=$(build_image acme/weather 1.0.0);   sign_and_attest "$GOOD" 1.0.0 "$TMP/tools.json" "$TMP/cosign.key"
CHANGED=$(build_image acme/weather 1.1.0); sign_and_attest "$CHANGED" 1.1.0 "$TMP/tools-changed.json" "$TMP/cosign.key"
UNSIGNED=$(build_image acme/weather unsigned)
FORGED=$(build_image acme/tides 1.0.0);   sign_and_attest "$FORGED" 1.0.0 "$TMP/tools.json" "$TMP/other/cosign.key"

# --- The upstream: the official registry v1.8.0, seeded ------------------------------------
server() { # name version identifier
  printf '{"$schema":"https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json","name":"%s","description":"Weather forecasts","version":"%s","repository":{"url":"https://github.com/acme/weather","source":"github"},"packages":[{"registryType":"oci","identifier":"%s","transport":{"type":"stdio"}}]}' "$1" "$2" "$3"
}
cat > "$TMP/seed.json" <<JSON
[$(server io.github.acme/weather 1.0.0 "$GOOD"),
 $(server io.github.acme/weather 1.0.1 "$UNSIGNED"),
 $(server io.github.acme/weather 1.1.0 "$CHANGED"),
 $(server io.github.acme/tides 1.0.0 "$FORGED"),
 $(server io.github.other/thing 1.0.0 "$GOOD")]
JSON
start_official_registry "$(free_port)" "$TMP/seed.json"
UP="$OFFICIAL_URL"
n=$(curl -fsS "$UP/v0.1/servers?limit=100" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["servers"]))')
[ "$n" = 5 ] || fail "the upstream serves $n seeded versions, want 5"
echo "ok: the official registry serves the 5 seeded versions"

# --- Vetted: the curation policy for io.github.acme/* from this upstream -------------------
acme_policy acme-release
osv_go_snapshot
VPORT=$(free_port)
VURL="http://127.0.0.1:$VPORT"
cat > "$TMP/vetted.yaml" <<YAML
addr: 127.0.0.1:$VPORT
data-dir: $TMP/data
outbound:
  allow_hosts: ["127.0.0.1"]
  allow_networks: [127.0.0.0/8]
publish:
  insecure_registries: ["$REG"]
  osv_dir: osv
mirror:
  upstreams:
    - url: $UP
      interval: 1h
      include: [io.github.acme/*]
      package_types: [oci]
      policies:
        - namespace: io.github.acme/*
          policy: acme-policy.yaml
      limits: {page_size: 2}
YAML

# report FILE FIELD… → prints the fields of the (one upstream's) JSON report
report() { python3 - "$@" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))[0]
print(" ".join(f"{k}={r[k]}" for k in sys.argv[2:]))
PY
}
outcomes() { python3 -c 'import json,sys; print(" ".join(sorted(e["name"]+"@"+e["version"]+"="+e["outcome"] for e in json.load(open(sys.argv[1]))[0]["entries"])))' "$1"; }

echo "== a dry run decides and records nothing (1.1.0 is not held: the dry run recorded no 1.0.0 to diff with)"
"$VETTED" mirror --config "$TMP/vetted.yaml" --dry-run --json > "$TMP/dry.json" || fail "dry run exited $?"
want "dry run counts" "$(report "$TMP/dry.json" dryRun fetched new published held rejected skipped)" "dryRun=True fetched=5 new=4 published=2 held=0 rejected=2 skipped=1"

echo "== the first run admits exactly the right ones"
"$VETTED" mirror --config "$TMP/vetted.yaml" --json > "$TMP/run1.json" || fail "first run exited $?"
want "first run counts" "$(report "$TMP/run1.json" complete fetched new published held rejected unchanged refused quarantined skipped failed)" \
  "complete=True fetched=5 new=4 published=1 held=1 rejected=2 unchanged=0 refused=0 quarantined=0 skipped=1 failed=0"
want "first run outcomes" "$(outcomes "$TMP/run1.json")" \
  "io.github.acme/tides@1.0.0=rejected io.github.acme/weather@1.0.0=published io.github.acme/weather@1.0.1=rejected io.github.acme/weather@1.1.0=pending_review io.github.other/thing@1.0.0=skipped"
python3 - "$TMP/run1.json" <<'PY' || fail "rejections do not name the signature check"
import json, sys
es = {e["name"] + "@" + e["version"]: e for e in json.load(open(sys.argv[1]))[0]["entries"]}
for k in ["io.github.acme/weather@1.0.1", "io.github.acme/tides@1.0.0"]:
    assert any(c["name"] == "signature" and c["outcome"] == "fail" for c in es[k]["checks"]), es[k]
assert any(c["name"] == "tools.diff" for c in es["io.github.acme/weather@1.1.0"]["checks"])
PY
echo "ok: unsigned and foreign-signed images are rejected by the signature check; the changed tool is held by tools.diff"

echo "== a second run is a no-op"
"$VETTED" mirror --config "$TMP/vetted.yaml" --json > "$TMP/run2.json" || fail "second run exited $?"
want "second run counts" "$(report "$TMP/run2.json" complete fetched new published held rejected)" "complete=True fetched=0 new=0 published=0 held=0 rejected=0"
"$VETTED" mirror --config "$TMP/vetted.yaml" > "$TMP/run2.txt" || fail "human run exited $?"
grep -q "fetched 0, new 0, published 0, held 0, rejected 0, unchanged 0" "$TMP/run2.txt" || { cat "$TMP/run2.txt"; fail "human report"; }
echo "ok: the human report says nothing changed"

echo "== vetted serve: the scheduled job (claimed once across processes), the read API, the metrics"
start_vetted "$TMP/vetted.yaml" "$VURL"
# The CLI just completed the job (recorded in the database): with interval 1h, serve's
# scheduler finds it not due and does not run it again; the counters are exported at 0.
sleep 1
curl -fs "$VURL/metrics" > "$TMP/metrics.txt"
grep -q 'vetted_mirror_runs_total{result="complete",upstream="'"$UP"'"} 0' "$TMP/metrics.txt" || { grep mirror "$TMP/metrics.txt"; fail "serve ran a job another process had just completed"; }
grep -q 'vetted_mirror_entries_total{outcome="published",upstream="'"$UP"'"} 0' "$TMP/metrics.txt" || fail "metrics not exported"
echo "ok: serve registered the scheduled job, did not run it again (claimed once across processes), exports vetted_mirror_*"
served=$(curl -fsS "$VURL/v0.1/servers" | python3 -c 'import json,sys; print(" ".join(sorted(s["server"]["name"]+"@"+s["server"]["version"] for s in json.load(sys.stdin)["servers"])))')
want "served after curation" "$served" "io.github.acme/weather@1.0.0"

echo "== the upstream changes a stored version's content: refused"
psql -q "$OFFICIAL_DB_URL" -c "UPDATE servers SET value = jsonb_set(value, '{description}', '\"Weather, and more\"'), updated_at = NOW() WHERE server_name = 'io.github.acme/weather' AND version = '1.0.0'"
set +e; "$VETTED" mirror --config "$TMP/vetted.yaml" --json > "$TMP/run3.json"; rc=$?; set -e
want "exit code of a run with a refusal" "$rc" "1"
want "changed content" "$(report "$TMP/run3.json" fetched refused published)" "fetched=1 refused=1 published=0"
grep -q immutable "$TMP/run3.json" || fail "the refusal does not say versions are immutable"
curl -fsS "$VURL/v0.1/servers/io.github.acme%2Fweather/versions/1.0.0" | grep -q '"description":"Weather forecasts"' || fail "the stored version changed"
echo "ok: the stored version is unchanged"

echo "== the upstream deletes it: the local copy is quarantined pending review"
# (with its original content again: a deletion quarantines only a local copy of the same content)
psql -q "$OFFICIAL_DB_URL" -c "UPDATE servers SET value = jsonb_set(value, '{description}', '\"Weather forecasts\"'), status = 'deleted', status_message = 'malware reported', status_changed_at = NOW(), updated_at = NOW() WHERE server_name = 'io.github.acme/weather' AND version = '1.0.0'"
"$VETTED" mirror --config "$TMP/vetted.yaml" --json > "$TMP/run4.json" || fail "deletion run exited $?"
want "upstream deletion" "$(report "$TMP/run4.json" fetched quarantined)" "fetched=1 quarantined=1"
for _ in $(seq 1 20); do
  code=$(curl -s -o /dev/null -w '%{http_code}' "$VURL/v0.1/servers/io.github.acme%2Fweather/versions/1.0.0")
  [ "$code" = 404 ] && break; sleep 0.2
done
want "read of the quarantined version" "$code" "404"

echo "== the audit chain names the mirror job and its upstream"
kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true
actors=$(python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(" ".join(sorted({r[0] for r in c.execute("SELECT actor FROM audit_events WHERE type != ?", ("config.change",))})))' "$TMP/data/vetted.db")
want "audit actors" "$actors" "mirror|$UP"
"$VETTED" audit verify --data-dir "$TMP/data" | tee "$TMP/audit.txt" | sed 's/^/    /'
grep -q "audit chain intact" "$TMP/audit.txt" || fail "audit chain"
echo "ok: audit chain intact"

echo "e2e mirror: all passed"
