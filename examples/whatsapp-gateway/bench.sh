#!/usr/bin/env bash
# Messages/s through the gateway with Linewall in the path vs Linewall `--noop` (transport
# only), in the same run: two Linewalls, one simulator (no status webhooks), two gateways;
# `whatsapp-demo load` alternates between them. PROFILE=release (default) or debug;
# N messages (2000), C concurrent agents (16), ROUNDS (2).
set -euo pipefail
cd "$(dirname "$0")/../.."
profile="${PROFILE:-release}"
n="${N:-2000}"; c="${C:-16}"; rounds="${ROUNDS:-2}"
flag=(); [ "$profile" = release ] && flag=(--release)
cargo build -q "${flag[@]}" -p linewall -p whatsapp-gateway --bins
bin="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/$profile"
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 600); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; exit 1; }
export WHATSAPP_APP_SECRET=bench-secret WHATSAPP_TOKEN=bench-token WHATSAPP_PHONE_NUMBER_ID=106540352242922
export TWILIO_ACCOUNT_SID=ACbench00000000000000000000000000 TWILIO_AUTH_TOKEN=bench-twilio TWILIO_FROM=+15005550006 RUST_LOG=error
lw_full=$(free_port); lw_noop=$(free_port); sim=$(free_port); gw_full=$(free_port); gw_noop=$(free_port)
"$bin/linewall" serve --listen "127.0.0.1:$lw_full" >/dev/null 2>&1 & pids+=($!)
"$bin/linewall" serve --noop --listen "127.0.0.1:$lw_noop" >/dev/null 2>&1 & pids+=($!)
SIM_LISTEN="127.0.0.1:$sim" "$bin/whatsapp-sim" >/dev/null 2>&1 & pids+=($!)
wait_port "$lw_full"; wait_port "$lw_noop"; wait_port "$sim"
for pair in "full:$gw_full:$lw_full" "noop:$gw_noop:$lw_noop"; do
  IFS=: read -r name gw lw <<<"$pair"
  GATEWAY_LISTEN="127.0.0.1:$gw" LINEWALL_ADDR="http://127.0.0.1:$lw" GATEWAY_DB="$work/$name.db" \
    WHATSAPP_API_BASE="http://127.0.0.1:$sim" TWILIO_API_BASE="http://127.0.0.1:$sim" \
    "$bin/whatsapp-gateway" >/dev/null 2>&1 & pids+=($!)
  wait_port "$gw"
done
curl -s -X POST "http://127.0.0.1:$sim/_sim/config" -H 'content-type: application/json' \
  -d '{"auto_status": false}' >/dev/null
echo "profile=$profile messages=$n concurrency=$c (one contact per gateway, opted in, window open)"
for r in $(seq 1 "$rounds"); do
  for pair in "linewall:$gw_full:+16505550101" "noop:$gw_noop:+16505550102"; do
    IFS=: read -r name gw phone <<<"$pair"
    curl -s -X POST "http://127.0.0.1:$sim/_sim/config" -H 'content-type: application/json' \
      -d "{\"gateway_url\": \"http://127.0.0.1:$gw\"}" >/dev/null
    printf 'round %s %-9s ' "$r" "$name"
    "$bin/whatsapp-demo" load "http://127.0.0.1:$gw" "http://127.0.0.1:$sim" "$n" "$c" "$phone"
  done
done
