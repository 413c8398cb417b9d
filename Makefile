# A thin index: each target is one step; `make test` is exactly what CI runs.
WASM_BINDGEN_VERSION := 0.2.130
WASM_PACK_VERSION := 0.15.1
CARGO_TARGET_DIR ?= $(CURDIR)/target
export CARGO_TARGET_DIR
CLI := $(CARGO_TARGET_DIR)/native/shopper-intent
TAOBAO ?= ../shared/data/taobao/UserBehavior_first100k.csv
PORT ?= 8080

.PHONY: web fuzz fuzz-smoke fuzz-seeds demo test test-rust test-model test-browser tools tools-rust tools-browser tools-node wasm cli model bench fmt

## The demo storefront on http://localhost:$(PORT), with the shipped model or a model `make train`
## wrote: MODEL=models/<name> [NAME=intent] (the manifest MODEL/NAME.json).
MODEL ?= models
demo: tools-rust tools-node wasm web
	node web/dev/serve.mjs --port $(PORT) --models "$(MODEL)" --name "$(or $(NAME),intent)"

## Every test: Rust (unit, property, golden, parity), the wasm build, the shipped model, the training
## path (skipped loudly when models/.venv has no torch, as on a fresh clone), the browser, a fuzz smoke run.
test: tools test-rust wasm web test-model test-train test-browser fuzz-smoke

## What the targets need, installed once (scripts/install-tools.sh): the Rust side (the wasm32
## target, the pinned wasm-bindgen CLI and wasm-pack) and the browser side (the browsers, npm).
tools: tools-rust tools-browser

tools-rust:
	bash scripts/install-tools.sh rust $(WASM_BINDGEN_VERSION) $(WASM_PACK_VERSION)

tools-browser:
	bash scripts/install-tools.sh browser

## The npm packages only (the demo needs no browser installed).
tools-node:
	bash scripts/install-tools.sh node

## Rust: the formatter's check, clippy with warnings as errors (the workspace and the fuzz crate),
## then every test.
test-rust:
	cargo fmt --all --check
	cd crate/fuzz && cargo fmt --check
	cargo clippy --profile native --workspace --all-targets --quiet -- -D warnings
	cd crate/fuzz && cargo clippy --all-targets --quiet -- -D warnings
	cargo test --profile native --workspace --exclude shopper-intent-wasm

## The browser package: wasm-pack with the release profile, tuned for size, twice: a plain module
## and a SIMD one (tract's wasm simd128 kernels, 2-5x faster steps for +1% bytes), chosen at load
## time with WebAssembly.validate. Both have the same exports, so one JS glue serves both (checked
## here). The SIMD build keeps its own target folder so neither build invalidates the other.
## wasm-opt is off (crate/wasm/Cargo.toml): measured, -Oz saves about 4% gzip for 80 s of build.
## Source paths in the modules' panic messages are written relative to the cargo registry and to
## this folder, not as this machine's absolute paths.
CARGO_HOME ?= $(HOME)/.cargo
WASM_REMAP := --remap-path-prefix=$(CARGO_HOME)/registry/src/= --remap-path-prefix=$(CURDIR)/=
wasm:
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$(WASM_REMAP)" \
	  wasm-pack build crate/wasm --target web --release --out-dir ../../web/package/pkg --no-pack
	CARGO_TARGET_DIR=$(CARGO_TARGET_DIR)/simd CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128 $(WASM_REMAP)" \
	  wasm-pack build crate/wasm --target web --release --out-dir ../../build/pkg-simd --no-pack
	cmp build/pkg-simd/shopper_intent_wasm.js web/package/pkg/shopper_intent_wasm.js
	cp build/pkg-simd/shopper_intent_wasm_bg.wasm web/package/pkg/shopper_intent_wasm_simd.wasm

## The page package bundled into one minified module each (web/package/*.min.js; esbuild).
web:
	node web/dev/bundle.mjs

## The browser tests, in Chromium, Firefox and WebKitGTK; the parity test compares with scores the
## native CLI gives the same events.
test-browser: cli
	node tests/browser/tools/make-parity-fixture.mjs --cli $(CLI) --out build/fixtures
	SHOPPER_INTENT_NATIVE_SCORES=$(CURDIR)/build/fixtures/native_scores.json bash tests/browser/run.sh

## The native CLI (target/native/shopper-intent), which the tests, training and the benchmark run.
cli:
	cargo build --profile native -p shopper-intent-cli

## Coverage-guided fuzzing (cargo fuzz, nightly; installed on first use). `make test` runs each
## target for a few seconds on the committed corpus; `make fuzz` runs each for FUZZ_SECONDS, seeded
## also with samples of the real logs, minimises the corpora and records crate/fuzz/RESULTS.md.
FUZZ_SECONDS ?= 900
fuzz-smoke:
	bash crate/fuzz/run.sh 5

fuzz:
	bash crate/fuzz/run.sh $(FUZZ_SECONDS) --record

## The fuzz targets' seed corpora, written by the crates' fuzz_seeds and fuzz_seeds_cli examples.
fuzz-seeds:
	cargo run --profile native -p shopper-intent --example fuzz_seeds -- crate/fuzz/corpus
	cargo run --profile native -p shopper-intent-cli --example fuzz_seeds_cli -- crate/fuzz/corpus

## Training (models/, Python in models/.venv, created from the pinned models/requirements.txt).
## make train DATA=events.jsonl OUT=models/<name> [NAME=intent] [SEEDS=0,1,2,3,4] [UTC_OFFSET_MIN=...]
##   [EPOCHS=...] [HIDDEN=...] [MEMBERS=...] [SELECT=1] [TRAIN_ARGS="--head 16 ..."]
## featurizes each seed into OUT/build/seed{S}, trains the streaming LSTM and the baselines, exports
## OUT/NAME.onnx/.json/.bin (the first seed's, converted and checked), every seed's model into OUT/build, and
## writes OUT/results.json, OUT/plots/ and OUT/REPORT.md. SELECT=1 also chooses the model size by
## validation AUC against measured cost (slow). `python -m models.trainer train --help` lists the rest.
.PHONY: train test-train
PYTHON ?= python3
VENV := models/.venv
UCI ?= ../shared/data/uci/online_shoppers_intention.csv
NAME ?= intent
SEEDS ?= 0,1,2,3,4
TRAIN_OPTS = --data "$(DATA)" --out "$(OUT)" --name "$(NAME)" --seeds "$(SEEDS)" --cli "$(CLI)" \
  $(if $(UTC_OFFSET_MIN),--utc-offset-min $(UTC_OFFSET_MIN)) $(if $(EPOCHS),--epochs $(EPOCHS)) \
  $(if $(HIDDEN),--hidden $(HIDDEN)) $(if $(MEMBERS),--members $(MEMBERS)) \
  $(if $(filter-out 0 no false,$(SELECT)),--select $(if $(SELECT_SEEDS),--select-seeds $(SELECT_SEEDS))) $(TRAIN_ARGS)
train: train-usage cli $(VENV)/.installed
	@"$(VENV)/bin/python" -c "import numpy, torch, onnx, lightgbm, sklearn, matplotlib" 2>/dev/null || { echo "make train: the training environment $(VENV) is broken or incomplete (an install that was stopped, or a Python replaced under it): remove it (rm -rf $(VENV)) and run make train again" >&2; exit 2; }
	$(VENV)/bin/python -m models.trainer train $(TRAIN_OPTS)

# Before anything is built or installed (PyTorch is 3 GB).
.PHONY: train-usage
train-usage:
	@test -n "$(DATA)" -a -n "$(OUT)" || { echo "usage: make train DATA=path/to/events.jsonl OUT=models/<name> [NAME=intent] [SEEDS=0,1,2,3,4] ..." >&2; exit 2; }
	@test -f "$(DATA)" || { echo "make train: DATA=$(DATA) is not a file" >&2; exit 2; }

$(VENV)/.installed: models/requirements.txt
	PYTHON=$(PYTHON) bash models/venv.sh $(VENV) models/requirements.txt

## Retrains the shipped models (by hand; CI never retrains): Taobao into models/ as intent, with the
## size chosen as the shipped one was (models/REPORT.md gives the command), and UCI.
model: cli $(VENV)/.installed
	$(MAKE) train DATA=$(TAOBAO) OUT=models NAME=intent SELECT=1 SELECT_SEEDS=0,1,2,3,4 TRAIN_ARGS="--threads 1"
	$(VENV)/bin/python -m models.trainer uci --data $(UCI) --out models

## The shipped model without retraining and without torch: onnx, onnxruntime over the fixtures, the
## manifest against the ONNX file (build/check-venv, from models/requirements-check.txt), then the
## engine's own check. CHECK_MODEL=path/to/<name>.json checks another model (without UCI).
CHECK_MODEL ?= models/intent.json
CHECK_VENV := build/check-venv
test-model: cli $(CHECK_VENV)/.installed
	$(CHECK_VENV)/bin/python -m models.trainer check --model $(CHECK_MODEL) $(if $(filter models/intent.json,$(CHECK_MODEL)),,--uci '')
	$(CLI) convert --check --model $(CHECK_MODEL)

$(CHECK_VENV)/.installed: models/requirements-check.txt
	PYTHON=$(PYTHON) bash models/venv.sh $(CHECK_VENV) models/requirements-check.txt

## The training path: unit tests, then a small synthetic log through `make train`'s command (2 seeds,
## a tiny model). Needs torch in models/.venv (`make train` creates it); skipped loudly without.
test-train: cli
	bash models/tests/run.sh $(CLI)

## The benchmark, figures only: the CLI natively, then our package and onnxruntime-web in headless
## Chromium, and again in headless Firefox and in WebKitGTK (under Xvfb), on the test users' sessions. Prints one table; writes
## build/bench/results.json, BENCHMARKS.md and BENCHMARKS.svg. Benchmarks the wasm package as built
## (make wasm first); MODELS=DIR for another model directory (its model named intent: DIR/intent.json).
bench: cli tools-browser
	xvfb-run -a node tests/bench/run.mjs --models $(or $(MODELS),models) --cli $(CLI) --input $(TAOBAO)

## Formats the Rust code (rustfmt.toml); `make test` fails on code it would change, and on any
## clippy warning.
fmt:
	cargo fmt --all
	cd crate/fuzz && cargo fmt
