# Sourced by the check scripts: start_tessera LOG DATABASE_URL [ENV=VALUE…] starts the
# release `tessera` on a free port (port 0; the server logs the one it got) with a fresh
# data directory beside LOG, and sets $pid and $port. stop_tessera ends it.
start_tessera() {
  local log=$1 url=$2; shift 2
  port=
  # Cheap bcrypt unless the caller says otherwise: its ENV=VALUE arguments come last.
  env DATABASE_URL="$url" TESSERA_DATA_DIR="$(dirname "$log")" TESSERA_BCRYPT_COST=4 \
    TESSERA_LOG_FORMAT=json "$@" ./target/release/tessera serve --bind 127.0.0.1:0 >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do
    port=$(grep -so '"port":[0-9]*' "$log" | head -1 | cut -d: -f2 || true)
    [[ -n $port ]] && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$log"; return 1; }
    sleep 0.1
  done
  echo "tessera did not start"; cat "$log"; return 1
}

stop_tessera() {
  [[ -n ${pid:-} ]] || return 0
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=
}

# start_fresh_tessera [ENV=VALUE…]: start_tessera on a new SQLite database in a new
# directory ($dir), removed with the server on exit; sets $base too.
start_fresh_tessera() {
  dir=$(mktemp -d)
  trap 'stop_tessera; rm -rf "$dir"' EXIT
  start_tessera "$dir/tessera.log" "sqlite://$dir/tessera.db" "$@"
  base="http://127.0.0.1:$port"
}
