# Tessera's commands. `make run` serves the app; `make test` runs every check CI runs.
# Both install what they need first (idempotently): see scripts/install-deps.sh.

SHELL := /bin/bash
CARGO ?= cargo
# Every backend in the binary `make` builds; plain `cargo build` gives SQLite only.
FEATURES ?= postgres,mysql
BIND ?= 127.0.0.1:8080

.PHONY: all build run web test lint unit tutorial-check contract-test fuzz-smoke deps deps-build deps-web deps-test bench soak fuzz clean

all: build

## Installs system packages, Rust targets and tools the build needs.
deps-build:
	@scripts/install-deps.sh build

deps-web:
	@scripts/install-deps.sh web

deps-test:
	@scripts/install-deps.sh test

deps: deps-build deps-web deps-test

## target/release/tessera with every database backend.
build: deps-build
	$(CARGO) build --release --locked -p tessera-server --features $(FEATURES)

## The web app's release bundle in web/dist.
web: deps-web
	@scripts/build-web.sh

## Serves the app on http://$(BIND)/ with the SQLite default.
run: build web
	./target/release/tessera serve --bind $(BIND)

## Everything CI checks.
test: deps lint unit tutorial-check contract-test fuzz-smoke

## rustfmt, ruff (scripts/*.py, see scripts/ruff.toml), clippy, rustdoc, schema.rs.
lint: deps-build
	@scripts/install-deps.sh lint
	$(CARGO) fmt --all -- --check
	target/py/bin/ruff format --check scripts/*.py
	target/py/bin/ruff check scripts/*.py
	python3 scripts/check_module_cycles.py
	$(CARGO) clippy --workspace --all-targets --all-features --locked -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --all-features --no-deps --locked
	@scripts/check-schema.sh

unit: deps-build web
	$(CARGO) test --workspace --all-features --locked --no-fail-fast

## The tutorial's curl session against a freshly started server on a fresh database.
tutorial-check: build
	@scripts/tutorial-check.sh

## schemathesis against the served OpenAPI document.
contract-test: build
	@scripts/contract-test.sh

bench: build
	@scripts/bench.sh

## Ten minutes of mixed traffic; RSS, 5xx and descriptors checked (SOAK_SECONDS to change).
soak: build
	@ulimit -n 8192 2>/dev/null || true; python3 scripts/soak.py

## A short fuzzing run of every target, for CI.
fuzz-smoke:
	@FUZZ_SECONDS=10 scripts/fuzz.sh

## Each cargo-fuzz target for FUZZ_SECONDS (default 60).
fuzz:
	@scripts/fuzz.sh

clean:
	$(CARGO) clean
	rm -rf web/dist
