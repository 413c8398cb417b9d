#!/usr/bin/env bash
# Installs what the build and the tests need, once; every step is skipped when already done.
# Usage: install-tools.sh rust WASM_BINDGEN_VERSION WASM_PACK_VERSION | install-tools.sh browser | install-tools.sh node
set -euo pipefail
cd "$(dirname "$0")/.."

# The npm packages of web/ (esbuild, the test and benchmark tools), when missing or out of date.
npm_packages() {
  if [ ! -d web/node_modules ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
    (cd web && npm ci --no-audit --no-fund)
  fi
}

case "${1:-}" in
rust)
  wbg="$2"; wp="$3"
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    rustup target add wasm32-unknown-unknown
  fi
  if ! cargo fmt --version >/dev/null 2>&1; then
    rustup component add rustfmt
  fi
  if ! cargo clippy --version >/dev/null 2>&1; then
    rustup component add clippy
  fi
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wbg" ]; then
    echo "installing wasm-bindgen-cli $wbg (a few minutes, once)"
    cargo install wasm-bindgen-cli --version "$wbg"
  fi
  if [ "$(wasm-pack --version 2>/dev/null | awk '{print $2}')" != "$wp" ]; then
    echo "installing wasm-pack $wp (a few minutes, once)"
    cargo install wasm-pack --version "$wp"
  fi
  ;;
browser)
  missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium chromium-driver)
  [ -x /usr/bin/firefox-esr ] || missing+=(firefox-esr)
  [ -x /usr/bin/WebKitWebDriver ] || missing+=(webkit2gtk-driver)
  [ -x /usr/bin/xvfb-run ] || missing+=(xvfb)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing Debian's ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  npm_packages
  ;;
node)
  # The npm packages alone: what the demo needs (esbuild for the bundle), no browser.
  npm_packages
  ;;
*)
  echo "usage: $0 rust WBG_VERSION WASM_PACK_VERSION | browser | node" >&2
  exit 2
  ;;
esac
