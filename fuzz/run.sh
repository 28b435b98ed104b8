#!/usr/bin/env bash
# Runs the cargo-fuzz targets on the stable toolchain (RUSTC_BOOTSTRAP=1 unlocks the
# -Z flags cargo-fuzz passes; no nightly needed). Not part of CI.
#
#   bash fuzz/run.sh                  # every target, 10 minutes each, one after another
#   SECONDS_EACH=3600 bash fuzz/run.sh proto_message
#
# Each run writes fuzz/logs/<target>.log; fuzz/report.sh summarizes executions, crashes and
# the slowest corpus input.
set -euo pipefail
cd "$(dirname "$0")"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(policy_yaml message_json proto_message plugin_findings)
bash seed.sh
mkdir -p logs
for t in "${targets[@]}"; do
  # -s none: the engine has no unsafe code, and without ASan each run is several times
  # faster. -timeout=1: an input slower than 1 s is reported as a crash.
  cargo fuzz run -s none "$t" "corpus/$t" "seeds/$t" -- \
    -max_total_time="${SECONDS_EACH:-600}" -timeout=1 -report_slow_units=0.1 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 >"logs/$t.log" 2>&1 || echo "$t: fuzzer exited non-zero (see logs/$t.log)"
done
