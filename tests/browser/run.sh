#!/usr/bin/env bash
# Runs the browser tests: the built wasm package (web/pkg/) and the shipped model (models/) in
# headless Chromium, plus the Node-side checks of web/ (mappers, server, TypeScript types).
#   tests/browser/run.sh [extra node --test arguments]
#   SHOPPER_INTENT_MODELS=build/random-model tests/browser/run.sh   (a placeholder model)
# Needs: node >= 20, /usr/bin/chromium (installed here with apt-get when missing and root),
# web/package/pkg/ built by the wasm target. Installs web/'s pinned devDependencies with `npm ci`.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "run.sh: installing Debian's chromium" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "run.sh: no Chromium at ${CHROMIUM:-/usr/bin/chromium}; install Debian's chromium package" >&2
    exit 1
  fi
fi

if [ ! -d web/node_modules/playwright-core ] || [ ! -d web/node_modules/typescript ] \
   || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
fi

if [ ! -f web/package/pkg/shopper_intent_wasm.js ] && [ -z "${SHOPPER_INTENT_PKG:-}" ]; then
  echo "run.sh: web/package/pkg/ is missing: build the wasm package first (make wasm)" >&2
  exit 1
fi

# The bundle a shop installs (web/package/*.min.js), from the sources as they are now:
# bundle.test.mjs compares it with them (SHOPPER_INTENT_MODULE=/shopper-intent.min.js runs
# every test against it).
if [ -f web/package/pkg/shopper_intent_wasm.js ]; then node web/dev/bundle.mjs >/dev/null; fi

exec node --test "$@" tests/browser/
