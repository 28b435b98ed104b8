#!/usr/bin/env bash
# Installs the example clients' dependencies (once, into examples/python/.venv and
# examples/node/node_modules) and runs each against a server at $1 (host:port).
set -euo pipefail
cd "$(dirname "$0")"
addr="${1:?usage: run-clients.sh HOST:PORT}"
if [ ! -x python/.venv/bin/python ]; then
  python3 -m venv python/.venv
  python/.venv/bin/pip install -q -r python/requirements.txt
fi
if [ ! -d node/node_modules/@grpc/grpc-js ]; then
  (cd node && npm install --silent --no-audit --no-fund >/dev/null)
fi
echo "== python"
python/.venv/bin/python python/client.py "$addr" "card 4111 1111 1111 1111"
echo "== node"
node node/client.js "$addr" "card 4111 1111 1111 1111"
