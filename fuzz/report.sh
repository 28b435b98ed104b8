#!/usr/bin/env bash
# Summarizes the fuzz runs: executions and crashes per target (from libFuzzer's final
# stats), then replays each target's corpus and reports its slowest input.
set -euo pipefail
cd "$(dirname "$0")"
bin=target/x86_64-unknown-linux-gnu/release
total=0
printf '%-16s %12s %8s %14s\n' target executions crashes slowest_ms
for log in logs/*.log; do
  t=$(basename "$log" .log)
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo 0)
  crashes=$(ls artifacts/"$t"/ 2>/dev/null | grep -c -E '^(crash|timeout|oom|slow-unit)-' || true)
  slow=0
  if [ -x "$bin/$t" ] && [ -d "corpus/$t" ]; then
    slow=$(find "corpus/$t" -type f -print0 | xargs -0 -n 500 "$bin/$t" -runs=1 2>&1 \
      | grep -o 'in [0-9]* ms' | grep -o '[0-9]*' | sort -n | tail -1 || echo 0)
  fi
  total=$((total + ${runs:-0}))
  printf '%-16s %12s %8s %14s\n' "$t" "${runs:-0}" "$crashes" "${slow:-0}"
done
echo "total executions: $total"
