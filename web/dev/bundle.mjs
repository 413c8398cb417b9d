#!/usr/bin/env node
// Bundles the page package into one minified module each for the two ways a shop installs it:
//   web/package/shopper-intent.min.js   the module a storefront imports (ShopperIntent and the mappers)
//   web/package/snippet.min.js          the one-line install (snippet.js and everything it imports)
// A page that imports ten small modules pays for each round trip and parse; one module does not.
// The wasm-bindgen glue (pkg/shopper_intent_wasm.js) is bundled in; the .wasm files stay beside
// the bundles, which find them through `import.meta.url`. The sources stay the reference
// (tests run against both).
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';

const PACKAGE = join(dirname(fileURLToPath(import.meta.url)), '..', 'package');
if (!existsSync(join(PACKAGE, 'pkg', 'shopper_intent_wasm.js'))) {
  console.error('bundle: web/package/pkg/ is missing: build the wasm package first (make wasm)');
  process.exit(1);
}
// The bindings' own default wasm URL (never used: the package always gives the module) names a
// file beside the bindings; bundled, it would name one beside the bundle, where there is none, and
// an app's bundler (Vite) warns of it in every build. It is made to name the file in pkg/.
const bindingsAtBundle = {
  name: 'bindings-wasm-url',
  setup(b) {
    b.onLoad({ filter: /pkg[\\/]shopper_intent_wasm\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const from = "new URL('shopper_intent_wasm_bg.wasm', import.meta.url)";
      if (!text.includes(from)) throw new Error(`bundle: ${args.path} no longer has ${from}: look at the bindings' default URL again`);
      return { contents: text.replace(from, "new URL('./pkg/shopper_intent_wasm_bg.wasm', import.meta.url)"), loader: 'js' };
    });
  },
};
// The engine's one dynamic import (engine.js: a fresh copy of the bindings, by URL, after a trap)
// tells an app's bundler to leave it to the browser: without its comments webpack makes it an
// empty module context (which rejects every URL) and warns "Critical dependency" in every build.
// esbuild's whitespace minifying drops comments, so they are put back in the output.
const KEEP_IMPORT = '/* webpackIgnore: true */ /* @vite-ignore */ ';
function keepDynamicImport(text, out) {
  const found = [...text.matchAll(/\bimport\(([A-Za-z_$][\w$]*)\)/g)];
  if (found.length !== 1) throw new Error(`bundle: ${out} has ${found.length} dynamic imports of a name, not the engine's one: look at engine.js's import() again`);
  const at = found[0].index;
  return `${text.slice(0, at)}import(${KEEP_IMPORT}${found[0][1]})${text.slice(at + found[0][0].length)}`;
}
for (const [entry, out] of [['shopper-intent.js', 'shopper-intent.min.js'], ['snippet.js', 'snippet.min.js']]) {
  const result = await build({
    plugins: [bindingsAtBundle],
    entryPoints: [join(PACKAGE, entry)],
    outfile: join(PACKAGE, out),
    bundle: true,
    format: 'esm',
    minify: true,
    target: ['es2022'],
    legalComments: 'none',
    logLevel: 'warning',
    write: false,
  });
  for (const file of result.outputFiles) writeFileSync(file.path, keepDynamicImport(file.text, out));
  console.log(`bundle: ${out} ${statSync(join(PACKAGE, out)).size} bytes`);
}
