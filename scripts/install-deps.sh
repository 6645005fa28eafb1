#!/usr/bin/env bash
# Installs what building, the web app or the tests need, and nothing twice.
#   install-deps.sh build   client libraries of PostgreSQL and MariaDB/MySQL
#   install-deps.sh web     wasm32 target, wasm-bindgen-cli (the Cargo.lock version), wasm-opt,
#                           brotli
#   install-deps.sh test    Chromium + ChromeDriver, diesel CLI, Python tools in target/py
#   install-deps.sh lint    ruff in target/py (for scripts/*.py)
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source-path=SCRIPTDIR/..
source scripts/lib.sh

cargo_install() { # cargo_install CRATE VERSION BINARY [cargo install args…]
  local crate=$1 version=$2 binary=$3; shift 3
  if command -v "$binary" >/dev/null && "$binary" --version 2>/dev/null | grep -q -- "$version"; then
    return 0
  fi
  echo "installing $crate $version"
  cargo install --locked --quiet "$crate" --version "$version" "$@"
}

# py_install REQUIREMENT… installs those pinned Python packages into the venv target/py,
# unless it has them all already.
py_install() {
  if [[ ! -x target/py/bin/python ]]; then
    python3 -m venv target/py
  fi
  local frozen missing=()
  frozen=$(target/py/bin/python -m pip freeze 2>/dev/null)
  for requirement in "$@"; do
    grep -qix -- "$requirement" <<<"$frozen" || missing+=("$requirement")
  done
  if ((${#missing[@]})); then
    echo "installing Python tools in target/py: ${missing[*]}"
    target/py/bin/python -m pip install --quiet --disable-pip-version-check "$@"
  fi
}

build() {
  apt_install pkg-config libpq-dev libmariadb-dev libmariadb-dev-compat
}

web() {
  rustup target list --installed | grep -q '^wasm32-unknown-unknown$' \
    || rustup target add wasm32-unknown-unknown
  # brotli: build-web.sh stores each asset precompressed (.br beside .gz) for the server.
  apt_install brotli
  # wasm-opt from binaryen's npm package, pinned, not Debian 12's binaryen 108: that one
  # writes the export of a module's second table as table 0 (WebAssembly/binaryen#4711,
  # fixed in 110), which breaks wasm-bindgen's externref table when the app starts.
  local binaryen=132
  if ! target/tools/binaryen/node_modules/.bin/wasm-opt --version 2>/dev/null | grep -q "version $binaryen "; then
    command -v npm >/dev/null || apt_install nodejs npm
    echo "installing binaryen $binaryen (npm) into target/tools/binaryen"
    npm install --prefix target/tools/binaryen --no-audit --no-fund --silent "binaryen@$binaryen.0.0"
  fi
  # wasm-bindgen-cli must be exactly the wasm-bindgen of Cargo.lock: the two share a
  # private format, and a mismatch fails at bundle time.
  local version
  version=$(locked_version wasm-bindgen)
  [[ -n $version ]] || return 0
  if wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $version"; then
    return 0
  fi
  echo "installing wasm-bindgen-cli $version"
  # Its own lock file first; when a crate locked there has left the registry (yanked),
  # resolve its dependencies afresh: the CLI version, the one that matters, stays exact.
  # No default features: they only add TLS for downloading test runners, unused here.
  if ! cargo install --locked --quiet --force wasm-bindgen-cli --version "$version" --no-default-features; then
    echo "retrying wasm-bindgen-cli $version without its lock file"
    cargo install --quiet --force wasm-bindgen-cli --version "$version" --no-default-features
  fi
}

test() {
  build
  apt_install chromium chromium-driver
  # Real proxies in front of Tessera in the API tests (reached with curl over TLS, with a
  # certificate openssl makes), and promtool (Debian's prometheus package) to check the
  # /metrics text format.
  apt_install nginx caddy prometheus curl openssl
  cargo_install diesel_cli "$(locked_version diesel)" diesel --no-default-features --features sqlite-bundled,postgres,mysql
  # Pinned: itsdangerous 1.1 is the last with TimedJSONWebSignatureSerializer; passlib 1.7.4
  # does not start with bcrypt 5.
  # cryptography gives PyJWT its EdDSA and ES256. Authlib (its OAuth 2.0 client) and
  # requests are the service-client peers of tests/peers/oauth_client.py.
  py_install itsdangerous==1.1.0 passlib==1.7.4 bcrypt==4.0.1 PyJWT==2.10.1 schemathesis==4.32.5 \
    cryptography==50.0.2 Authlib==1.9.10 requests==2.34.2
  # npm's jose, the Node verifier the integration guide's snippet uses (tests/peers/).
  local jose=6.2.18
  if ! grep -qs "\"version\": \"$jose\"" target/tools/jose/node_modules/jose/package.json; then
    command -v npm >/dev/null || apt_install nodejs npm
    echo "installing jose $jose (npm) into target/tools/jose"
    npm install --prefix target/tools/jose --no-audit --no-fund --silent "jose@$jose"
  fi
  # npm's axe-core, the accessibility checker the browser tests run in each page (WCAG 2.2 AA).
  local axe=4.14.1
  if ! grep -qs "\"version\": \"$axe\"" target/tools/axe-core/node_modules/axe-core/package.json; then
    command -v npm >/dev/null || apt_install nodejs npm
    echo "installing axe-core $axe (npm) into target/tools/axe-core"
    npm install --prefix target/tools/axe-core --no-audit --no-fund --silent "axe-core@$axe"
  fi
}

# ruff, which `make lint` runs over scripts/*.py (configured in scripts/ruff.toml).
lint() {
  py_install ruff==0.17.6
}

for what in "$@"; do "$what"; done
