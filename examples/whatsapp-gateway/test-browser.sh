#!/usr/bin/env bash
# The inbox browser test: installs Debian chromium (apt) and playwright-core (npm ci) when
# missing, then runs the ignored `browser` test. Screenshots: target/whatsapp-gateway-browser/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) >/dev/null
  else
    echo "chromium missing: apt-get install chromium chromium-driver" >&2
    exit 1
  fi
fi
if ! command -v node >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm) >/dev/null
  else
    echo "node missing: apt-get install nodejs npm" >&2
    exit 1
  fi
fi
if [ ! -d "$here/browser/node_modules/playwright-core" ]; then
  (cd "$here/browser" && npm ci --silent --no-audit --no-fund >/dev/null)
fi
cd "$here/../.."
cargo test -q --locked -p whatsapp-gateway --test browser -- --ignored
