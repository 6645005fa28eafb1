#!/usr/bin/env bash
# `make bench`: every figure of docs/benchmarks.md, measured side by side in one run.
#
#   scripts/bench.sh            the whole run (about 8 minutes once built)
#   BENCH_ROUNDS=5 BENCH_SECONDS=10 scripts/bench.sh    more and longer load runs
#   BENCH_HTTP_ROUNDS, BENCH_HTTP_SECONDS                the same for section 2 alone
#   BENCH_ONLY=tokens,http scripts/bench.sh             some sections only (tokens,
#       http, signin, isolation, footprint, profile, oauth); the document is still
#       rewritten, the other sections carried over from the last raw results in
#       $BENCH_TARGET_DIR, else kept as the document shows them
#
# It expects target/release/tessera (the Makefile's `bench: build` makes it), builds the
# bench-only examples of tessera-http (the ceiling server, the bcrypt timer) and the
# criterion bench in $BENCH_TARGET_DIR, installs wrk (and perf when missing) from Debian,
# then runs scripts/bench.py, which runs each comparison, alternating the contenders round
# by round. Load only ever
# goes to 127.0.0.1, every run is bounded in time, and every process it starts is
# stopped on exit, however it exits. The tables between the `bench:begin`/`bench:end`
# markers of docs/benchmarks.md are rewritten; the prose around them is kept.
set -euo pipefail
cd "$(dirname "$0")/.."

export BENCH_TARGET_DIR=${BENCH_TARGET_DIR:-target/h-bench}
export TESSERA_BIN=${TESSERA_BIN:-target/release/tessera}

# shellcheck source-path=SCRIPTDIR/..
source scripts/lib.sh

command -v wrk >/dev/null || apt_install wrk
command -v perf >/dev/null || apt_install linux-perf || echo "bench: no perf; the profile section will say so"
command -v python3 >/dev/null || apt_install python3
command -v psql >/dev/null || apt_install postgresql-client || true

if [[ ! -x $TESSERA_BIN ]]; then
  echo "bench: $TESSERA_BIN is missing; run \`make bench\` (it builds first)" >&2
  exit 1
fi
# 1,000 keep-alive connections need as many descriptors on each side, and more.
ulimit -n 16384 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true

echo "bench: building the bench-only examples and the criterion bench in $BENCH_TARGET_DIR"
CARGO_TARGET_DIR=$BENCH_TARGET_DIR cargo build --release --locked --quiet -p tessera-http \
  --example ceiling --example bcrypt_verify
CARGO_TARGET_DIR=$BENCH_TARGET_DIR cargo bench --locked --quiet -p tessera-token --bench tokens --no-run

# The measuring itself, and the rewriting of docs/benchmarks.md.
exec python3 scripts/bench.py "$@"
