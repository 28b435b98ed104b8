#!/usr/bin/env bash
# Replay throughput: N messages (default 1,000,000, the dev corpus repeated) judged by the
# shipped packs (baseline) and the shipped packs plus one extra policy (candidate), timed
# against `linewall scan` of the same file with the baseline alone, measured in the same run.
# Usage: benches/replay/run.sh [N]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
n="${1:-1000000}"
cargo build --release --locked -p linewall --manifest-path "$root/Cargo.toml" -q
bin="${CARGO_TARGET_DIR:-$root/target}/release/linewall"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 - "$root/engine/core/testdata/dev-corpus.jsonl" "$n" > "$work/messages.jsonl" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
n = int(sys.argv[2])
out = sys.stdout
for i in range(n):
    v = lines[i % len(lines)]
    out.write(json.dumps({"id": f"{v['id']}-{i}", "text": v["text"],
                          "direction": "inbound" if i % 3 == 0 else "outbound"}) + "\n")
PY
mkdir -p "$work/candidate"
cp "$root"/policies/*.yaml "$work/candidate/"
cat > "$work/candidate/zz-contact.yaml" <<'YAML'
apiVersion: linewall/v1
kind: Policy
metadata: {name: contact}
spec:
  rules:
    - id: emails
      when: {directions: [outbound], detectors: {any: [{id: email}]}}
      action: block
YAML
echo "messages: $n ($(du -h "$work/messages.jsonl" | cut -f1)), cores: $(nproc)"
t0=$(date +%s.%N)
"$bin" scan --stable --policies "$root/policies" "$work/messages.jsonl" > /dev/null
t1=$(date +%s.%N)
"$bin" replay --format json --baseline "$root/policies" --candidate "$work/candidate" "$work/messages.jsonl" > "$work/report.json"
t2=$(date +%s.%N)
python3 - "$n" "$t0" "$t1" "$t2" "$work/report.json" <<'PY'
import json, sys
n, t0, t1, t2 = int(sys.argv[1]), *map(float, sys.argv[2:5])
r = json.load(open(sys.argv[5]))
scan, replay = t1 - t0, t2 - t1
print(f"scan (baseline, 1 set, 1 thread, JSON out): {scan:.1f} s = {n/scan:,.0f} msgs/s")
print(f"replay (2 sets, all cores, report):         {replay:.1f} s = {n/replay:,.0f} msgs/s")
print(f"replay/scan throughput ratio: {scan/replay:.2f}")
print(f"changed messages: {r['changed_messages']}, transitions: {r['transitions']}")
PY
