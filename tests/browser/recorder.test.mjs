// The request recorder the privacy tests rely on (recordRequests in helpers.mjs) sees every way a
// page can send data: a GET with a query, a POST body, a beacon, a WebSocket, an image. Run in
// Chromium, Firefox and WebKit (run.sh), so that a privacy test passing in any of them means
// something.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { blankPage, pause, recordRequests, setup, test } from './helpers.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.close(); });

test('the request recorder sees queries, bodies, beacons, WebSockets and images', { timeout: 60_000 }, async () => {
  const context = await env.browser.newContext();
  const page = await env.page(context);
  const requests = recordRequests(page);
  await blankPage(page, env.url);
  await page.evaluate(async () => {
    await fetch('/probe-get?secret=query').catch(() => {});
    await fetch('/probe-post', { method: 'POST', body: 'secret-body' }).catch(() => {});
    navigator.sendBeacon('/probe-beacon', 'secret-beacon');
    await new Promise((resolve) => {
      const ws = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/probe-socket`);
      ws.onerror = ws.onclose = () => resolve();
      setTimeout(resolve, 3000);
    });
    const img = new Image();
    img.src = '/probe-image?secret=pixel';
  });
  const seen = (path) => requests.find((r) => r.url.includes(path));
  for (let i = 0; i < 40 && !['/probe-get', '/probe-post', '/probe-beacon', '/probe-socket', '/probe-image'].every(seen); i++) await pause(page, 50);
  assert.equal(seen('/probe-get')?.search, '?secret=query', 'a GET with its query');
  assert.deepEqual([seen('/probe-post')?.method, seen('/probe-post')?.postData], ['POST', 'secret-body'], 'a POST with its body');
  assert.deepEqual([seen('/probe-beacon')?.method, seen('/probe-beacon')?.postData], ['POST', 'secret-beacon'], 'a beacon with its body');
  assert.ok(seen('/probe-socket'), 'a WebSocket');
  assert.equal(seen('/probe-image')?.search, '?secret=pixel', 'an image with its query');
  await context.close();
});
