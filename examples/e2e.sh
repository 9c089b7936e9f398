#!/usr/bin/env bash
# End-to-end suite: grows with the publish pipeline. Each stage installs what it needs.
set -euo pipefail
export GOTOOLCHAIN=go1.27.3
cd "$(dirname "$0")/.."
for s in examples/e2e.d/*.sh; do
  [ -e "$s" ] || continue
  echo "== e2e: $s"
  bash "$s"
done
