#!/usr/bin/env bash
# e2e + documentation: docs/quickstart.md, run as written. Every ```sh block of the page is
# extracted in order and run as one bash script (set -euo pipefail) from the repository root,
# with free ports and a temporary work directory (the page reads OCI, ADDR and QS when set).
# The checks below read what the page's commands printed, so the page cannot rot.
set -euo pipefail
export GOTOOLCHAIN=go1.27.3
cd "$(dirname "$0")/../.."

. examples/e2e-lib.sh
install_e2e_tools
fail() { echo "FAIL: $*"; [ -f "$TMP/out.log" ] && sed 's/^/    /' "$TMP/out.log"; for f in "$TMP"/qs/*.log; do [ -f "$f" ] && { echo "== $f"; tail -20 "$f"; }; done; exit 1; }

awk '/^```sh$/ {on=1; next} /^```/ {on=0} on' docs/quickstart.md > "$TMP/page.sh"
blocks=$(grep -c '^```sh$' docs/quickstart.md)
[ "$blocks" -ge 10 ] || fail "docs/quickstart.md has $blocks sh blocks, want the whole walk-through"
echo "ok: extracted $blocks sh blocks ($(wc -l < "$TMP/page.sh") lines) from docs/quickstart.md"

export OCI="127.0.0.1:$(free_port)" ADDR="127.0.0.1:$(free_port)" QS="$TMP/qs"
# The harness adds only this: background jobs the page started die with the script.
{ echo 'trap '"'"'kill $(jobs -p) 2>/dev/null || true'"'"' EXIT'; cat "$TMP/page.sh"; } > "$TMP/run.sh"
bash -euo pipefail "$TMP/run.sh" > "$TMP/out.log" 2>&1 || fail "the page's commands failed (exit $?)"
echo "ok: every command of docs/quickstart.md ran"

want() { grep -qF -- "$1" "$TMP/out.log" || fail "the output lacks '$1'"; echo "ok: $2"; }
want "npm" "osv show lists the imported ecosystems"
want "decision: published" "vetted publish: published"
want "pass   signature" "the signature check passed"
want "pass   sbom" "the SBOM check passed"
want "attestation verified" "vetted resolve --verify verified the registry's attestation"
want '"name":"io.github.acme/weather"' "the read API serves the server"
grep -q "warning: created a new embedded issuer key" "$TMP/out.log" && fail "token issue created a new key: it did not read data-dir from vetted.yaml"
echo "ok: vetted token issue used the registry's key (data-dir from vetted.yaml)"
echo "e2e quickstart: all passed"
