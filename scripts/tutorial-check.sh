#!/usr/bin/env bash
# Starts the release `tessera` on a free port with a fresh SQLite database in a temporary
# directory, replays the tutorial's curl session against it, and stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
check=../shared/checks/tutorial-session.sh
[[ -f $check ]] || { echo "missing $check" >&2; exit 1; }
dir=$(mktemp -d)
port_file="$dir/port"
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
# Port 0: the OS picks a free port; the server logs the one it got.
TESSERA_DATA_DIR="$dir" TESSERA_BCRYPT_COST=4 TESSERA_LOG_FORMAT=json \
  ./target/release/tessera serve --bind 127.0.0.1:0 >"$dir/log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  port=$(grep -o '"port":[0-9]*' "$dir/log" | head -1 | cut -d: -f2 || true)
  [[ -n $port ]] && break
  kill -0 "$pid" 2>/dev/null || { cat "$dir/log"; exit 1; }
  sleep 0.1
done
[[ -n ${port:-} ]] || { echo "tessera did not start"; cat "$dir/log"; exit 1; }
echo "tutorial session against http://127.0.0.1:$port"
bash "$check" "http://127.0.0.1:$port"
