#!/usr/bin/env bash
# Installs `redis-server` (Debian package) when missing: the conversation tests start a
# real one on 127.0.0.1 (docs/10-conversations.md). Idempotent and quiet.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "redis-server is missing and apt-get is not available: install Redis 6+ by hand" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends redis-server >/dev/null
# The package may start a system instance; the tests start their own on free ports.
command -v redis-server >/dev/null
