#!/usr/bin/env bash
# The playground browser test: installs Debian chromium (apt), node and playwright-core
# (npm ci) when missing, then runs the ignored `playground_browser` test.
# Screenshots: target/playground-browser/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
need() {
  if ! command -v "$1" >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${@:2}") >/dev/null
    else
      echo "$1 missing: apt-get install ${*:2}" >&2
      exit 1
    fi
  fi
}
need chromium chromium chromium-driver
need node nodejs npm
if [ ! -d "$here/node_modules/playwright-core" ]; then
  (cd "$here" && npm ci --silent --no-audit --no-fund >/dev/null)
fi
cd "$here/../../../.."
cargo test -q --locked -p linewall --test playground_browser -- --ignored --nocapture
