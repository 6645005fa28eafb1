#!/usr/bin/env bash
# Starts the release `tessera` on a free port with a fresh database, replays the tutorial's
# curl session against it, and stops it — on SQLite, and on PostgreSQL and MariaDB when
# they answer (required when CI=true).
set -euo pipefail
cd "$(dirname "$0")/.."
check=../shared/checks/tutorial-session.sh
[[ -f $check ]] || { echo "missing $check" >&2; exit 1; }
dir=$(mktemp -d)
name="tessera_session_$$"
pid=
cleanup() {
  stop_tessera
  psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $name" postgres 2>/dev/null || true
  mariadb -h 127.0.0.1 -u root -e "DROP DATABASE IF EXISTS $name" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

source scripts/start-tessera.sh

session() { # session LABEL DATABASE_URL
  start_tessera "$dir/$1.log" "$2"
  echo "== tutorial session on $1 (http://127.0.0.1:$port)"
  bash "$check" "http://127.0.0.1:$port"
  stop_tessera
}

session sqlite "sqlite://$dir/tessera.db"
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $name" postgres
  session postgres "postgres://postgres@127.0.0.1:5432/$name"
elif [[ ${CI:-} == true ]]; then
  echo "PostgreSQL is not reachable" >&2; exit 1
fi
if mariadb-admin -h 127.0.0.1 -u root ping >/dev/null 2>&1; then
  mariadb -h 127.0.0.1 -u root -e "CREATE DATABASE $name CHARACTER SET utf8mb4"
  session mariadb "mysql://root@127.0.0.1:3306/$name"
elif [[ ${CI:-} == true ]]; then
  echo "MariaDB is not reachable" >&2; exit 1
fi
