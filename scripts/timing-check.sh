#!/usr/bin/env bash
# Unknown user versus wrong password: the median time of each sign-in, side by side in one
# run at the default bcrypt cost (12), against a fresh release `tessera` on SQLite.
# Prints both medians and their ratio; the figure goes into docs/security.md.
# Usage: scripts/timing-check.sh [ROUNDS]   (default 40 of each, interleaved)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-40}
source scripts/start-tessera.sh
# Throttling off: this measures the password check itself, not the lockout.
start_fresh_tessera TESSERA_BCRYPT_COST=12 TESSERA_LOGIN_MAX_FAILURES=0
curl -sf -o /dev/null -H 'Content-Type: application/json' \
  -d '{"username":"timing","password":"correct horse battery staple"}' "$base/api/v1/users"
sign_in() { # sign_in USERNAME → seconds
  curl -s -o /dev/null -w '%{time_total}\n' -H 'Content-Type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"not the password at all\"}" "$base/api/v1/tokens"
}
sign_in timing >/dev/null # warm-up: the dummy hash is made on first use
for _ in $(seq "$rounds"); do
  echo "wrong $(sign_in timing)"
  echo "unknown $(sign_in "nobody$RANDOM")"
done >"$dir/times"
python3 - "$dir/times" "$rounds" <<'PY'
import statistics, sys
times = {"wrong": [], "unknown": []}
for line in open(sys.argv[1]):
    kind, seconds = line.split()
    times[kind].append(float(seconds) * 1000)
wrong, unknown = statistics.median(times["wrong"]), statistics.median(times["unknown"])
print(f"rounds: {sys.argv[2]} of each, interleaved, bcrypt cost 12")
print(f"wrong password: median {wrong:.1f} ms (min {min(times['wrong']):.1f}, max {max(times['wrong']):.1f})")
print(f"unknown user:   median {unknown:.1f} ms (min {min(times['unknown']):.1f}, max {max(times['unknown']):.1f})")
print(f"ratio unknown/wrong: {unknown / wrong:.3f} (target: within 0.90-1.10)")
PY
