#!/usr/bin/env bash
# e2e: `vetted proxy` is transparent in front of the real reference "everything" server
# (@modelcontextprotocol/server-everything from npm, pinned version), driven by a minimal
# raw JSON-RPC host (examples/mcp/host.mjs, protocol 2025-06-18):
#  - vetted check --pin X -- vetted proxy --pin X -- SERVER passes;
#  - the initialize result (serverInfo, capabilities, instructions), prompts, resources, a
#    prompt, a resource and every tool are identical with and without the proxy;
#  - a tool left out of the pin is withheld from tools/list and its call refused, while the
#    other tools still work.
# Needs Node 20 and the npm registry.
set -euo pipefail
export GOTOOLCHAIN=go1.27.3
cd "$(dirname "$0")/../.."

. examples/e2e-lib.sh
fail() { echo "FAIL: $*"; exit 1; }

EVERYTHING=@modelcontextprotocol/server-everything@2026.8.31
SERVER=(npx -y "$EVERYTHING")
go build -o "$TMP/vetted" ./cmd/vetted
V="$TMP/vetted"
HOST=(node examples/mcp/host.mjs)

"$V" tools capture --timeout 5m -o "$TMP/pin.json" -- "${SERVER[@]}" 2>"$TMP/capture.err" || { cat "$TMP/capture.err"; fail "capture"; }
echo "ok: captured $EVERYTHING"

"$V" check --pin "$TMP/pin.json" -- "$V" proxy --pin "$TMP/pin.json" -- "${SERVER[@]}" >"$TMP/check.out" 2>"$TMP/check.err" \
  || { cat "$TMP/check.out" "$TMP/check.err"; fail "check through the proxy"; }
grep -q "^OK: " "$TMP/check.out" || fail "check output: $(cat "$TMP/check.out")"
echo "ok: vetted check --pin X -- vetted proxy --pin X -- everything passes"

export HOST_CALLS='[{"name":"echo","arguments":{"message":"hi"}},{"name":"no_such_tool","arguments":{}}]'
"${HOST[@]}" "${SERVER[@]}" >"$TMP/direct.json" 2>/dev/null || fail "host against the server"
"${HOST[@]}" "$V" proxy --pin "$TMP/pin.json" -- "${SERVER[@]}" >"$TMP/proxied.json" 2>"$TMP/proxy.err" || { cat "$TMP/proxy.err"; fail "host through the proxy"; }
python3 - "$TMP/direct.json" "$TMP/proxied.json" <<'PY' || fail "proxied session differs"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
init = b["initialize"]
assert init["serverInfo"]["name"] != "vetted-proxy", init["serverInfo"]
assert init.get("instructions"), "no instructions through the proxy"
assert b["prompts"] and b["resources"] and b.get("prompt") and b.get("resource"), "prompts/resources missing"
for k in ("initialize", "prompts", "resources", "tools", "prompt", "resource"):
    assert a[k] == b[k], f"{k} differs through the proxy"
    print(f"ok: {k} identical through the proxy")
assert a["calls"][0] == b["calls"][0], "echo differs"
assert "vetted proxy refused tool \"no_such_tool\"" in b["calls"][1]["error"]["message"], b["calls"][1]
print("ok: unknown tool refused by the proxy, echo answered by the server")
PY

# Withhold echo: pin every tool but it.
python3 - "$TMP/pin.json" "$TMP/pin-no-echo.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["tools"] = [t for t in m["tools"] if t["name"] != "echo"]
json.dump(m, open(sys.argv[2], "w"))
PY
"${HOST[@]}" "$V" proxy --pin "$TMP/pin-no-echo.json" -- "${SERVER[@]}" >"$TMP/withheld.json" 2>"$TMP/withheld.err" || { cat "$TMP/withheld.err"; fail "host through the proxy (echo withheld)"; }
python3 - "$TMP/withheld.json" "$TMP/direct.json" <<'PY' || fail "withheld tool"
import json, sys
w, a = (json.load(open(p)) for p in sys.argv[1:3])
names = [t["name"] for t in w["tools"]]
assert "echo" not in names, names
assert [t for t in a["tools"] if t["name"] != "echo"] == w["tools"], "other tools changed"
assert "not in the pinned manifest" in w["calls"][0]["error"]["message"], w["calls"][0]
print("ok: a tool missing from the pin is withheld and its call refused; the other tools are unchanged")
PY
grep -q 'msg="refused tool call" tool=echo' "$TMP/withheld.err" || fail "refusal not logged"
echo "ok: refusal logged"
