#!/usr/bin/env bash
# One command: build Linewall, set up Presidio (pinned, offline after install), compare.
# Usage: benches/compare/run.sh [--corpus FILE] [--limit N]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
corpus="$root/engine/core/testdata/dev-corpus.jsonl"
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --corpus) corpus="$2"; shift 2 ;;
    *) extra+=("$1"); shift ;;
  esac
done
(cd "$root" && cargo build -q --release -p linewall && cargo build -q --release -p linewall-benches --bin inprocess)
if [ ! -x "$here/.venv/bin/python" ]; then
  python3 -m venv "$here/.venv"
  "$here/.venv/bin/pip" install -q -r "$here/requirements.txt"
fi
"$here/.venv/bin/python" "$here/compare.py" --corpus "$corpus" --bin-dir "$root/target/release" \
  --policy "$here/all-detectors.yaml" "${extra[@]}" | tee "$here/latest.txt"
