#!/usr/bin/env bash
# Seed corpora from the repository's own test data: the policy packs and examples, the
# dev corpus as JSON lines, the same texts as protobuf requests and as plugin inputs.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p seeds/policy_yaml seeds/message_json seeds/proto_message seeds/plugin_findings
mkdir -p corpus/policy_yaml corpus/message_json corpus/proto_message corpus/plugin_findings
for f in ../policies/*.yaml ../plugins/examples/*/*.yaml; do
  [ -f "$f" ] && cp "$f" "seeds/policy_yaml/$(basename "$(dirname "$f")")-$(basename "$f")"
done
python3 - <<'PY'
import json, os, hashlib
def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7f; n >>= 7
        if n: out.append(b | 0x80)
        else: out.append(b); return bytes(out)
def field(num, payload):
    return varint(num << 3 | 2) + varint(len(payload)) + payload
lines = [l for l in open('../engine/core/testdata/dev-corpus.jsonl', encoding='utf-8') if l.strip()]
for i, line in enumerate(lines[:400]):
    row = json.loads(line)
    text = row.get('text', '')
    msg = {'id': f'm{i}', 'text': text, 'direction': 'inbound' if i % 2 else 'outbound'}
    name = hashlib.sha1(text.encode()).hexdigest()[:16]
    open(f'seeds/message_json/{name}', 'w', encoding='utf-8').write(json.dumps(msg))
    t = text.encode()
    req = field(1, field(1, f'm{i}'.encode()) + field(8, t))
    open(f'seeds/proto_message/{name}', 'wb').write(req)
    # Plugin input: two spans (the whole text, and its first half), then the text.
    n = min(len(t), 65535)
    spans = bytes([2]) + (0).to_bytes(2, 'little') + n.to_bytes(2, 'little') + (0).to_bytes(2, 'little') + (n // 2).to_bytes(2, 'little')
    open(f'seeds/plugin_findings/{name}', 'wb').write(spans + t)
PY
