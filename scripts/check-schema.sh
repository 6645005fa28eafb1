#!/usr/bin/env bash
# Fails when crates/tessera-store/src/schema.rs is not what the diesel CLI prints for the
# SQLite migrations, and checks that each backend's migrations also run with the CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v diesel >/dev/null || { echo "diesel CLI missing: run scripts/install-deps.sh test" >&2; exit 1; }
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
# An empty config for running migrations: with the repository's diesel.toml, the CLI would
# rewrite schema.rs as a side effect (and so always agree with itself).
: >"$dir/diesel.toml"
cli() { diesel "$@" --config-file "$dir/diesel.toml"; }
url="$dir/schema.db"
cli migration run --database-url "$url" --migration-dir migrations/sqlite >/dev/null
diesel print-schema --database-url "$url" >"$dir/schema.rs"
# The committed file is rustfmt-formatted like every other source file.
rustfmt --edition 2024 "$dir/schema.rs"
if ! diff -u crates/tessera-store/src/schema.rs "$dir/schema.rs"; then
  echo "schema.rs is out of date: regenerate with diesel print-schema (see docs/operations.md)" >&2
  exit 1
fi
echo "schema.rs matches migrations/sqlite"

# The PostgreSQL and MySQL folders with the diesel CLI, when those servers answer (in CI
# they must: .ci/run starts them).
name="tessera_cli_check_$$"
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  pg="postgres://postgres@127.0.0.1:5432/$name"
  psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $name" postgres
  cli migration run --database-url "$pg" --migration-dir migrations/postgres >/dev/null
  cli migration redo --all --database-url "$pg" --migration-dir migrations/postgres >/dev/null
  psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE $name" postgres
  echo "migrations/postgres run and revert with the diesel CLI"
elif [[ ${CI:-} == true ]]; then
  echo "PostgreSQL is not reachable" >&2; exit 1
fi
if mariadb-admin -h 127.0.0.1 -u root ping >/dev/null 2>&1; then
  my="mysql://root@127.0.0.1:3306/$name"
  mariadb -h 127.0.0.1 -u root -e "CREATE DATABASE $name CHARACTER SET utf8mb4"
  cli migration run --database-url "$my" --migration-dir migrations/mysql >/dev/null
  cli migration redo --all --database-url "$my" --migration-dir migrations/mysql >/dev/null
  mariadb -h 127.0.0.1 -u root -e "DROP DATABASE $name"
  echo "migrations/mysql run and revert with the diesel CLI"
elif [[ ${CI:-} == true ]]; then
  echo "MariaDB is not reachable" >&2; exit 1
fi
