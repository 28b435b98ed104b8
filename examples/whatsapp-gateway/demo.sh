#!/usr/bin/env bash
# `make demo`: starts Linewall, the Graph API + Twilio simulator and the gateway on
# 127.0.0.1, plays a scripted conversation (opt-in, window, blocked card, redacted inbound
# IBAN, SMS fallback, STOP) and prints the transcript and the archive.
# Ports: LINEWALL_PORT (50151), SIM_PORT (18091), GATEWAY_PORT (18090).
set -euo pipefail
cd "$(dirname "$0")/../.."
lw_port="${LINEWALL_PORT:-50151}"
sim_port="${SIM_PORT:-18091}"
gw_port="${GATEWAY_PORT:-18090}"
cargo build -q -p linewall -p whatsapp-gateway --bins
bin="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug"
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
wait_port() {
  for _ in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on port $1" >&2
  exit 1
}
export WHATSAPP_APP_SECRET=demo-app-secret WHATSAPP_TOKEN=demo-token WHATSAPP_PHONE_NUMBER_ID=106540352242922
export WHATSAPP_VERIFY_TOKEN=demo-verify TWILIO_ACCOUNT_SID=ACdemo0000000000000000000000000000
export TWILIO_AUTH_TOKEN=demo-twilio-token TWILIO_FROM=+15005550006 RUST_LOG=error
"$bin/linewall" serve --listen "127.0.0.1:$lw_port" >"$work/linewall.log" 2>&1 &
pids+=($!)
SIM_LISTEN="127.0.0.1:$sim_port" SIM_GATEWAY_URL="http://127.0.0.1:$gw_port" \
  "$bin/whatsapp-sim" >"$work/sim.log" 2>&1 &
pids+=($!)
wait_port "$lw_port"
wait_port "$sim_port"
GATEWAY_LISTEN="127.0.0.1:$gw_port" LINEWALL_ADDR="http://127.0.0.1:$lw_port" \
  WHATSAPP_API_BASE="http://127.0.0.1:$sim_port" TWILIO_API_BASE="http://127.0.0.1:$sim_port" \
  GATEWAY_DB="$work/gateway.db" CRM_WEBHOOK_URL="http://127.0.0.1:$sim_port/crm" SMS_FALLBACK="${SMS_FALLBACK:-auto}" \
  "$bin/whatsapp-gateway" >"$work/gateway.log" 2>&1 &
pids+=($!)
wait_port "$gw_port"
echo "Linewall 127.0.0.1:$lw_port · simulator http://127.0.0.1:$sim_port · gateway + inbox http://127.0.0.1:$gw_port"
echo
"$bin/whatsapp-demo" script "http://127.0.0.1:$gw_port" "http://127.0.0.1:$sim_port"
