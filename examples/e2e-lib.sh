# Sourced by the scripts in examples/e2e.d: installs the real tools the end-to-end suite uses at
# their pinned versions (skipping any already installed at that version) and sets up a temp
# dir that is removed, with every process recorded in PIDS, when the script exits.
# After sourcing: $BIN on PATH, $TMP, PIDS=(), free_port, fail/want/expect, the setup the
# publish scripts share (start_oci_registry, start_vetted, cosign_keys, acme_policy,
# osv_go_snapshot, TOOLS_TYPE), the official registry's helpers (build_official_registry,
# start_official_registry, stop_official_registry, build_mcp_publisher) and signed_image (a
# signed, SBOM- and tool-attested image of examples/weather-server).
export GOTOOLCHAIN=go1.27.3

BIN="${VETTED_TOOLS_BIN:-$HOME/go/bin}"
mkdir -p "$BIN"
export PATH="$BIN:$PATH"

install_tool() { # name module-path package version
  local name=$1 mod=$2 pkg=$3 ver=$4 have=""
  if [ -x "$BIN/$name" ]; then
    have=$(go version -m "$BIN/$name" 2>/dev/null | awk -v m="$mod" '$1=="mod" && $2==m {print $3}')
  fi
  if [ "$have" != "$ver" ]; then
    echo "installing $name $ver"
    GOBIN="$BIN" go install "$pkg@$ver"
  fi
}

install_cosign() { install_tool cosign github.com/sigstore/cosign/v2 github.com/sigstore/cosign/v2/cmd/cosign v2.6.5; }

install_e2e_tools() {
  install_cosign
  install_tool crane github.com/google/go-containerregistry github.com/google/go-containerregistry/cmd/crane v0.22.1
  install_tool syft github.com/anchore/syft github.com/anchore/syft/cmd/syft v1.43.0
  if ! command -v docker-registry >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y docker-registry >/dev/null ||
      { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y docker-registry >/dev/null; }
  fi
}

TMP=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  [ "${#OFFICIAL_DBS[@]}" -eq 0 ] || drop_official_dbs
  rm -rf "$TMP"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# fail MESSAGE: ends the script. Most failures are only explained by what a server logged, so it
# prints the tail of every log in $TMP. A script that wants less (or other logs) defines its own
# after sourcing this file; the helpers below call whichever fail is defined then.
fail() { echo "FAIL: $*"; for f in "$TMP"/*.log; do [ -f "$f" ] && { echo "== $f"; tail -15 "$f"; }; done; exit 1; }
# want WHAT GOT WANT: an equality check that says what it checked either way.
want() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; echo "ok: $1: $3"; }
# expect CODE TEXT -- command…: run it, check its exit code and that TEXT is in its output, which
# is printed (indented) and kept in $LAST for further checks.
expect() {
  local code=$1 text=$2 rc
  shift 3
  set +e
  LAST=$("$@" 2>&1)
  rc=$?
  set -e
  echo "$LAST" | sed 's/^/    /'
  [ "$rc" = "$code" ] || fail "$* exited $rc, want $code"
  grep -qF -- "$text" <<<"$LAST" || fail "$*: output lacks '$text'"
  echo "ok: exit $rc, '$text'"
}

# The media type of the tool manifest attestation (what `vetted tools capture` writes).
TOOLS_TYPE=https://vetted.dev/tool-manifest/v1

# start_oci_registry: Debian's docker-registry (no referrers API, so cosign's legacy tag layout
# is what gets exercised) on a free loopback port, storage under $TMP. Sets REG (host:port) and
# returns when /v2/ answers; logs to $TMP/registry.log.
start_oci_registry() {
  REG="127.0.0.1:$(free_port)"
  cat > "$TMP/registry.yml" <<YAML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $TMP/registry-data}}
http: {addr: $REG}
YAML
  docker-registry serve "$TMP/registry.yml" >"$TMP/registry.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 50); do curl -fs "http://$REG/v2/" >/dev/null && return 0; sleep 0.2; done
  cat "$TMP/registry.log"; fail "docker-registry did not start"
}

# start_vetted CONFIG URL: `$VETTED serve --config CONFIG` in the background (PID in PIDS and
# VETTED_PID, log in $TMP/serve.log, which some scripts grep for audit lines); returns when
# URL/readyz answers, else fails with the serve log (a config error is only said there).
start_vetted() {
  local config=$1 url=$2
  "$VETTED" serve --config "$config" >"$TMP/serve.log" 2>&1 &
  VETTED_PID=$!
  PIDS+=("$VETTED_PID")
  for _ in $(seq 1 100); do
    curl -fs "$url/readyz" >/dev/null && return 0
    kill -0 "$VETTED_PID" 2>/dev/null || break   # exited: no point waiting out the 20 s
    sleep 0.2
  done
  cat "$TMP/serve.log"; fail "vetted serve did not start"
}

# cosign_keys [other]: an empty-password cosign key pair in $TMP (cosign.key, cosign.pub: the
# release key the acme policy names) and, with "other", a second one in $TMP/other (a foreign
# key, for the refusals).
cosign_keys() {
  export COSIGN_PASSWORD=""
  (cd "$TMP" && cosign generate-key-pair >/dev/null 2>&1)
  [ "${1:-}" != other ] || { mkdir -p "$TMP/other" && (cd "$TMP/other" && cosign generate-key-pair >/dev/null 2>&1); }
}

# acme_policy [AUTHORITY]: $TMP/acme-policy.yaml, the key-based policy the publish scripts give
# io.github.acme/*: signed by $TMP/cosign.pub (the authority named AUTHORITY, default
# release-key: refusals name it), SBOM and tools attested.
acme_policy() {
  cat > "$TMP/acme-policy.yaml" <<YAML
authorities:
  - name: ${1:-release-key}
    key: {path: cosign.pub}
require: {signature: true, sbom: true, tools: true}
YAML
}

# osv_go_snapshot: $TMP/osv, an OSV snapshot (osv_dir: osv) with one Go record for a module no
# image holds. Without a snapshot every publish fails its scan; and the weather-server binary
# that syft catalogs is Go, so without a Go record its modules are "not assessed" and the
# version waits for an exception (pending_review).
osv_go_snapshot() {
  mkdir -p "$TMP/osv/Go"
  cat > "$TMP/osv/Go/VETTED-E2E-0002.json" <<'JSON'
{"schema_version":"1.6.0","id":"VETTED-E2E-0002","modified":"2026-01-01T00:00:00Z","summary":"e2e fixture: a module nobody uses",
 "affected":[{"package":{"ecosystem":"Go","name":"example.com/vetted-e2e/unused"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.0"}]}]}]}
JSON
}

# ---- The official registry (github.com/modelcontextprotocol/registry) and its publisher CLI ----
# Both are built from the version go.mod pins (so from the module cache when it is there) into
# $TMP, never into the repository. The build cache makes a second build a link step.
OFFICIAL_MODULE=github.com/modelcontextprotocol/registry
official_version() { go list -m -f '{{.Version}}' "$OFFICIAL_MODULE"; }

# build_official_registry: sets OFFICIAL_REGISTRY to the path of the registry server binary.
build_official_registry() {
  [ -n "${OFFICIAL_REGISTRY:-}" ] && [ -x "$OFFICIAL_REGISTRY" ] && return 0
  local ver; ver=$(official_version)
  mkdir -p "$TMP/official-bin"
  GOBIN="$TMP/official-bin" go install "$OFFICIAL_MODULE/cmd/registry@$ver"
  OFFICIAL_REGISTRY="$TMP/official-bin/registry"
}

# build_mcp_publisher: sets MCP_PUBLISHER to the path of the official mcp-publisher CLI.
build_mcp_publisher() {
  [ -n "${MCP_PUBLISHER:-}" ] && [ -x "$MCP_PUBLISHER" ] && return 0
  local ver; ver=$(official_version)
  mkdir -p "$TMP/official-bin"
  GOBIN="$TMP/official-bin" go install "$OFFICIAL_MODULE/cmd/publisher@$ver"
  MCP_PUBLISHER="$TMP/official-bin/mcp-publisher"
  [ -x "$MCP_PUBLISHER" ] || MCP_PUBLISHER="$TMP/official-bin/publisher"
}

# start_official_registry PORT [SEED [DB]]: runs the official registry on 127.0.0.1:PORT against
# a database DB (default: a fresh one, dropped at exit) on the local PostgreSQL
# ($VETTED_TEST_POSTGRES names the server; its database part is replaced). SEED is
# MCP_REGISTRY_SEED_FROM: a JSON file of server.json documents, a URL of such a file, or a
# registry's list URL (one containing /v0/servers, e.g. http://127.0.0.1:8080/v0/servers), which
# upstream pages through once, at start, before it listens. Pass a DB name again to restart on
# the same data. Extra environment (MCP_REGISTRY_*) passes through. Returns when /v0/health
# answers (so the seed import is over). Sets OFFICIAL_URL, OFFICIAL_PID, OFFICIAL_DB_URL, and
# logs to $TMP/official-PORT.log.
OFFICIAL_DBS=()
official_pg_base() { local u=${VETTED_TEST_POSTGRES:-postgres://root@127.0.0.1:5432/test?sslmode=disable}; echo "${u%%\?*}" | sed 's#/[^/]*$##'; }
start_official_registry() {
  local port=$1 seed=${2:-} db=${3:-} base query
  build_official_registry
  base=$(official_pg_base)
  query="sslmode=disable"
  if [ -z "$db" ]; then
    db="official_$$_${port}_$RANDOM"
    psql -q "$base/postgres?$query" -c "CREATE DATABASE $db" >/dev/null || { echo "cannot create database $db on $base" >&2; return 1; }
    OFFICIAL_DBS+=("$db")
  fi
  OFFICIAL_DB_URL="$base/$db?$query"
  [ -n "${OFFICIAL_JWT_KEY:-}" ] || OFFICIAL_JWT_KEY=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
  MCP_REGISTRY_SERVER_ADDRESS="127.0.0.1:$port" \
  MCP_REGISTRY_DATABASE_URL="$OFFICIAL_DB_URL" \
  MCP_REGISTRY_SEED_FROM="$seed" \
  MCP_REGISTRY_JWT_PRIVATE_KEY="$OFFICIAL_JWT_KEY" \
  MCP_REGISTRY_ENABLE_REGISTRY_VALIDATION="${MCP_REGISTRY_ENABLE_REGISTRY_VALIDATION:-false}" \
  MCP_REGISTRY_ENABLE_ANONYMOUS_AUTH="${MCP_REGISTRY_ENABLE_ANONYMOUS_AUTH:-true}" \
    "$OFFICIAL_REGISTRY" > "$TMP/official-$port.log" 2>&1 &
  OFFICIAL_PID=$!
  PIDS+=("$OFFICIAL_PID")
  OFFICIAL_URL="http://127.0.0.1:$port"
  local i
  for i in $(seq 1 600); do
    curl -fsS "$OFFICIAL_URL/v0/health" >/dev/null 2>&1 && return 0
    kill -0 "$OFFICIAL_PID" 2>/dev/null || { echo "the official registry exited; its log:" >&2; tail -30 "$TMP/official-$port.log" >&2; return 1; }
    sleep 0.2
  done
  echo "the official registry did not answer on $OFFICIAL_URL within 120 s" >&2; tail -30 "$TMP/official-$port.log" >&2
  return 1
}

# stop_official_registry: stops the one start_official_registry last started (its database stays
# until exit, so it can be restarted on the same data).
stop_official_registry() {
  [ -n "${OFFICIAL_PID:-}" ] || return 0
  kill "$OFFICIAL_PID" 2>/dev/null || true
  wait "$OFFICIAL_PID" 2>/dev/null || true
  OFFICIAL_PID=""
}

drop_official_dbs() {
  local db base; base=$(official_pg_base)
  for db in "${OFFICIAL_DBS[@]}"; do psql -q "$base/postgres?sslmode=disable" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; done
}

# signed_image REG REPO TAG TOOLS KEY: pushes an image holding $TMP/weather-server (build it
# first) tagged TAG, signs it with the cosign KEY and attests its SBOM (syft) and the tool
# manifest TOOLS (from `vetted tools capture`) — what the publish pipeline requires of an OCI
# package — and prints the digest reference.
signed_image() {
  local reg=$1 repo=$2 tag=$3 tools=$4 key=$5 root="$TMP/rootfs-$3" ref
  mkdir -p "$root/app"
  cp "$TMP/weather-server" "$root/app/weather-server"
  echo "$tag" > "$root/app/build-id"
  tar -C "$root" -cf "$TMP/layer-$tag.tar" .
  crane append -f "$TMP/layer-$tag.tar" -t "$reg/$repo:$tag" >/dev/null 2>&1
  syft scan "dir:$root" -o "spdx-json=$TMP/sbom-$tag.spdx.json" -q
  ref="$reg/$repo@$(crane digest "$reg/$repo:$tag")"
  local args=(--key "$key" --tlog-upload=false --yes --allow-http-registry)
  COSIGN_PASSWORD="${COSIGN_PASSWORD:-}" cosign sign "${args[@]}" "$ref" >/dev/null 2>&1
  COSIGN_PASSWORD="${COSIGN_PASSWORD:-}" cosign attest "${args[@]}" --type spdxjson --predicate "$TMP/sbom-$tag.spdx.json" "$ref" >/dev/null 2>&1
  COSIGN_PASSWORD="${COSIGN_PASSWORD:-}" cosign attest "${args[@]}" --type https://vetted.dev/tool-manifest/v1 --predicate "$tools" "$ref" >/dev/null 2>&1
  echo "$ref"
}
