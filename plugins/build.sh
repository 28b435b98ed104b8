#!/usr/bin/env bash
# Builds every plugin in this directory into plugins/dist/*.wasm (components that import
# nothing), then runs the plugins' native unit tests. Called by `make test`.
#
# Needs: the wasm32-unknown-unknown target (rust-toolchain.toml installs it) and, for the
# C example, clang + wasm-ld (Debian: `apt-get install clang lld`; installed here when
# missing and running as root).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
cd "$root"
dist="$here/dist"
mkdir -p "$dist"

# rust-toolchain.toml lists the target, but rustup may be set not to install on demand.
if command -v rustup >/dev/null; then
    rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || true
fi

if [ -z "${LINEWALL:-}" ]; then
    cargo build -q -p linewall --locked
    LINEWALL="$root/target/debug/linewall"
fi

for crate in examples/account-number examples/watchlist tests/hostile tests/noop; do
    name="$(basename "$crate")"
    "$LINEWALL" plugin build "$here/$crate" --locked -o "$dist/$name.wasm"
done

# The C example: clang's wasm32 backend, no libc, then componentize.
if ! command -v clang >/dev/null || ! command -v wasm-ld >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing clang and lld (for the C plugin example)..."
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q clang lld >/dev/null
    else
        echo "error: the C plugin example needs clang and wasm-ld: apt-get install clang lld" >&2
        exit 1
    fi
fi
clang --target=wasm32-unknown-unknown -O2 -nostdlib -Wl,--no-entry -Wall -Werror \
    -o "$dist/isin-c.core.wasm" "$here/examples/isin-c/isin.c"
"$LINEWALL" plugin componentize "$dist/isin-c.core.wasm" -o "$dist/isin-c.wasm"
rm -f "$dist/isin-c.core.wasm"

# The plugins' own unit tests, natively.
cargo test -q --manifest-path "$here/Cargo.toml" --locked
