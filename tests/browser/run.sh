#!/usr/bin/env bash
# Runs the browser tests: the built wasm package (web/package/pkg/) and the shipped model (models/) in
# headless Chromium, then every test file that opens a browser again in headless Firefox and in
# WebKitGTK (under Xvfb; the engines of Safari), plus the Node-side checks of web/ (mappers,
# server, TypeScript types).
#   tests/browser/run.sh [extra node --test arguments]
#   SHOPPER_INTENT_MODELS=build/random-model tests/browser/run.sh   (a placeholder model)
#   SHOPPER_INTENT_BROWSERS=chromium tests/browser/run.sh            (one browser only)
# Needs: node >= 20, /usr/bin/chromium, /usr/bin/firefox-esr, /usr/bin/WebKitWebDriver and
# /usr/bin/xvfb-run (installed here with apt-get when missing and root), web/package/pkg/ built
# by the wasm target. Installs web/'s pinned
# devDependencies with `npm ci`.
set -euo pipefail
cd "$(dirname "$0")/../.."

BROWSERS="${SHOPPER_INTENT_BROWSERS:-chromium firefox webkit}"

# need BINARY PACKAGE NAME: installs Debian's PACKAGE when BINARY is missing (as root), or says how.
need() {
  [ -x "$1" ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "run.sh: installing Debian's $2" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
  else
    echo "run.sh: no $3 at $1; install Debian's $2 package" >&2
    exit 1
  fi
}
need "${CHROMIUM:-/usr/bin/chromium}" chromium Chromium
case " $BROWSERS " in *" firefox "*) need "${FIREFOX:-/usr/bin/firefox-esr}" firefox-esr Firefox ;; esac
case " $BROWSERS " in *" webkit "*)
  need "${WEBKIT_DRIVER:-/usr/bin/WebKitWebDriver}" webkit2gtk-driver WebKitWebDriver
  need /usr/bin/xvfb-run xvfb xvfb-run ;;
esac

if [ ! -d web/node_modules/playwright-core ] || [ ! -d web/node_modules/puppeteer-core ] || [ ! -d web/node_modules/typescript ] \
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

status=0
case " $BROWSERS " in *" chromium "*)
  echo "run.sh: every test, in Chromium" >&2
  SHOPPER_INTENT_BROWSER=chromium node --test "$@" tests/browser/ || status=$?
esac
case " $BROWSERS " in *" firefox "*)
  # The files that open a browser (setup() of helpers.mjs); the Node-side checks ran above.
  mapfile -t in_browser < <(grep -l 'await setup(' tests/browser/*.test.mjs)
  echo "run.sh: the ${#in_browser[@]} files that open a browser, in Firefox" >&2
  SHOPPER_INTENT_BROWSER=firefox node --test "$@" "${in_browser[@]}" || status=$?
esac
case " $BROWSERS " in *" webkit "*)
  mapfile -t in_browser < <(grep -l 'await setup(' tests/browser/*.test.mjs)
  echo "run.sh: the ${#in_browser[@]} files that open a browser, in WebKit" >&2
  # The browser's stderr with JavaScriptCore's log of wasm memories, for the intermittent trap
  # (tests/browser/webkit.mjs, WEBKIT_LOG).
  export SHOPPER_INTENT_WEBKIT_LOG="${SHOPPER_INTENT_WEBKIT_LOG:-$PWD/build/webkit-stderr.log}"
  mkdir -p "$(dirname "$SHOPPER_INTENT_WEBKIT_LOG")" && : > "$SHOPPER_INTENT_WEBKIT_LOG"
  SHOPPER_INTENT_BROWSER=webkit xvfb-run -a node --test "$@" "${in_browser[@]}" || status=$?
esac
exit "$status"
