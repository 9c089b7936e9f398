# Sourced by the scripts in examples/e2e.d: installs the real tools the end-to-end suite uses at
# their pinned versions (skipping any already installed at that version) and sets up a temp
# dir that is removed, with every process recorded in PIDS, when the script exits.
# After sourcing: $BIN on PATH, $TMP, PIDS=(), free_port.
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

install_e2e_tools() {
  install_tool cosign github.com/sigstore/cosign/v2 github.com/sigstore/cosign/v2/cmd/cosign v2.6.5
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
  rm -rf "$TMP"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
