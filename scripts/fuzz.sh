#!/usr/bin/env bash
# Runs each cargo-fuzz target for FUZZ_SECONDS (default 60) with the nightly toolchain:
# token parsing (tessera-token) and the Authorization header parser (tessera-http).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
run() { # run CRATE_DIR TARGET
  local dir=$1 target=$2
  mkdir -p "$dir/fuzz/corpus/$target"
  echo "== fuzzing $target for ${seconds}s"
  local log
  log=$(mktemp)
  if ! (cd "$dir/fuzz" && cargo +nightly fuzz run "$target" --target-dir "$PWD/../../../target/fuzz" \
        "corpus/$target" "seeds/$target" -- -max_total_time="$seconds" -print_final_stats=1) >"$log" 2>&1; then
    tail -40 "$log"; echo "fuzzing $target failed: a build error, or a crash saved under $dir/fuzz/artifacts/$target" >&2
    exit 1
  fi
  grep -E 'stat::number_of_executed_units|Done [0-9]+ runs' "$log" || tail -3 "$log"
  rm -f "$log"
}
run crates/tessera-token verify
run crates/tessera-http authorization
