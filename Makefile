# A thin index: each target is one step; `make test` is exactly what CI runs.
WASM_BINDGEN_VERSION := 0.2.130
WASM_PACK_VERSION := 0.15.1
CARGO_TARGET_DIR ?= $(CURDIR)/target
export CARGO_TARGET_DIR
CLI := $(CARGO_TARGET_DIR)/native/shopper-intent
TAOBAO ?= ../shared/data/taobao/UserBehavior_first100k.csv
PORT ?= 8080

.PHONY: demo test test-rust test-model test-browser tools tools-rust tools-browser wasm cli model bench fmt

## The demo storefront on http://localhost:$(PORT), with the shipped model or MODEL=models/<name>.
MODEL ?= models
demo: tools-rust wasm
	node web/dev/serve.mjs --port $(PORT) --models $(MODEL)

## Every test: Rust (unit, property, golden, parity), the wasm build, the browser.
test: tools test-rust wasm test-browser

tools: tools-rust tools-browser

tools-rust:
	bash scripts/install-tools.sh rust $(WASM_BINDGEN_VERSION) $(WASM_PACK_VERSION)

tools-browser:
	bash scripts/install-tools.sh browser

test-rust:
	cargo test --profile native --workspace --exclude shopper-intent-wasm

## The browser package: wasm-pack with the release profile, tuned for size. wasm-opt is off
## (crate/wasm/Cargo.toml): measured here, -Oz took 2 min and made the gzip larger (2.35 -> 2.40 MB).
wasm:
	wasm-pack build crate/wasm --target web --release --out-dir ../../web/package/pkg --no-pack

## The browser tests; the parity test compares with scores the native CLI gives the same events.
test-browser: cli
	node tests/browser/tools/make-parity-fixture.mjs --cli $(CLI) --out build/fixtures
	SHOPPER_INTENT_NATIVE_SCORES=$(CURDIR)/build/fixtures/native_scores.json bash tests/browser/run.sh

cli:
	cargo build --profile native -p shopper-intent-cli

## Retrains and re-exports the shipped model (by hand; CI never retrains).
model:
	bash models/train.sh

## Benchmarks (figures, no assertions): native featurize/scoring, the page in Chromium, tract vs onnxruntime-web.
bench: cli wasm tools-browser
	$(CLI) bench --input $(TAOBAO) --model models/intent.json
	node tests/browser/bench.mjs
	node tests/bench/peer.mjs

fmt:
	cargo fmt --all
