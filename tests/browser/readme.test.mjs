// The README's code example runs as a test: the first ```js block of README.md is served as a
// module on a page under the CSP.
// A bare `shopper-intent` import specifier is pointed at /shopper-intent.js, as a bundler or
// an import map would.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CSP, REPO, consoleProblems, setup, test } from './helpers.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.close(); });

export function firstJsBlock(markdown) {
  const m = markdown.match(/^```(?:js|javascript)\s*\n([\s\S]*?)^```/m);
  return m ? m[1] : null;
}

function example() {
  const file = join(REPO, 'README.md');
  assert.ok(existsSync(file), 'README.md exists');
  const code = firstJsBlock(readFileSync(file, 'utf8'));
  assert.ok(code, 'README.md has a ```js block');
  return { file, code };
}

test('the README example runs in the browser', { timeout: 60_000 }, async (t) => {
  const { file, code } = example();
  const module = code.replace(/from\s+(['"])shopper-intent\1/g, "from '/shopper-intent.js'");
  const context = await env.browser.newContext();
  const page = await env.page(context);
  const headers = (type) => ({ 'Content-Type': type, 'Content-Security-Policy': CSP });
  await page.route(`${env.url}/__readme.html`, (r) => r.fulfill({
    status: 200,
    headers: headers('text/html; charset=utf-8'),
    body: '<!doctype html><html><head><meta charset="utf-8"><title>readme</title><script type="module" src="/__readme.js"></script></head><body></body></html>',
  }));
  await page.route(`${env.url}/__readme.js`, (r) => r.fulfill({ status: 200, headers: headers('text/javascript'), body: `${module}\nwindow.__readmeDone = true;\n` }));
  await page.goto(`${env.url}/__readme.html`);
  await page.waitForFunction(() => window.__readmeDone === true || window.__readmeFailed, null, { timeout: 30_000 }).catch(() => {});
  assert.deepEqual(page.pageErrors, [], `${file}: the example threw`);
  assert.equal(await page.evaluate(() => window.__readmeDone), true, `${file}: the example ran to its end`);
  assert.deepEqual(consoleProblems(page), [], 'no console errors or warnings');
  const attr = await page.evaluate(() => document.documentElement.getAttribute('data-shopper-intent-segment'));
  assert.ok(['low', 'medium', 'high'].includes(attr), 'the widget is running on the page');
  await context.close();
});

test('firstJsBlock finds the first js block', () => {
  assert.equal(firstJsBlock('# t\n```sh\nmake\n```\n```js\na();\n```\n```js\nb();\n```\n'), 'a();\n');
  assert.equal(firstJsBlock('no code'), null);
});
