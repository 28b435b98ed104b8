# The two commands of the README: `make run` and `make test`.
.PHONY: run test lint plugins bench compare demo

# Serve the built-in policy packs over gRPC on 127.0.0.1:50051.
run:
	cargo run --release -p linewall -- serve

# The reference WhatsApp gateway: Linewall, the simulator and the gateway, a scripted
# conversation, its transcript and archive (examples/whatsapp-gateway).
demo:
	bash examples/whatsapp-gateway/demo.sh

# Everything CI runs after fmt and clippy: plugin builds and their unit tests, the whole
# test suite, the gateway's and the playground's browser tests (install chromium +
# playwright-core), the packs' own tests, the example plugins' policy tests.
test:
	bash plugins/build.sh
	bash scripts/ensure-redis.sh
	cargo test --workspace --locked
	bash examples/whatsapp-gateway/test-browser.sh
	bash engine/cli/tests/browser/test-playground.sh
	cargo run -q -p linewall -- test policies/ --quiet
	cargo run -q -p linewall -- test plugins/examples/ --quiet

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	cd plugins && cargo fmt --all -- --check && cargo clippy --all-targets --locked -- -D warnings
