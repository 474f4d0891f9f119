#!/usr/bin/env node
// tests/browser/run_todo.mjs: the browser test of the shared to-do example (ctest
// browser_todo_example). Starts `todo serve --port P --root REPO` on a free port, opens
// http://127.0.0.1:P/todo/ in headless chromium and checks: an item added through the form
// is listed, an item added by the C++ `todo add` shows up by itself, and an empty item is
// refused (the page shows why) and leaves the list as it was.
//
//   node run_todo.mjs --bin build/examples/todo --root REPO
//       [--chromium /usr/bin/chromium] [--timeout-s 120] [--only step,step]
//
// Every wait has a deadline (steps 15 s, the whole run --timeout-s); nothing sleeps.

import net from 'node:net';

import { Peer, check, equal, log, runBrowserTest, runToEnd } from './hub_runner.mjs';

const WAIT_MS = 10000;

/** The items the page lists (each li's own text, without its buttons). */
function items(page) {
  return page.evaluate(() => [...document.querySelectorAll('#list > li')]
    .map((li) => li.firstChild?.nodeValue ?? ''));
}

/** Waits until the page lists `want` (in order); returns the list. */
async function untilItems(page, want, what) {
  try {
    await page.waitForFunction((w) => JSON.stringify([...document.querySelectorAll(
      '#list > li')].map((li) => li.firstChild?.nodeValue ?? '')) === JSON.stringify(w),
    want, { timeout: WAIT_MS });
  } catch (error) {
    throw new Error(`${what}: the page lists ${JSON.stringify(await items(page))}, not ` +
      `${JSON.stringify(want)} within ${WAIT_MS} ms`);
  }
  return want;
}

/** Types `text` in the form and submits it with the button. */
async function submit(page, text) {
  await page.fill('#text', text);
  await page.click('#add button');
}

const steps = [
  ['page_adds_item', async ({ page }) => {
    equal(await items(page), [], 'the list at first');
    await submit(page, 'from page');
    await untilItems(page, ['from page'], 'the page\'s item');
    equal(await page.textContent('#error'), '', 'error text');
    return 'listed "from page"';
  }],

  ['cpp_item_appears', async ({ page, bin, port }) => {
    const done = await runToEnd(bin, ['add', `tcp://127.0.0.1:${port + 1}`, 'from cpp']);
    check(done.code === 0, `todo add: exit ${JSON.stringify(done)}`);
    equal(done.lines, ['["from page","from cpp"]'], 'todo add printed');
    await untilItems(page, ['from page', 'from cpp'], 'the C++ item');
    return 'listed "from cpp"';
  }],

  ['empty_item_refused', async ({ page }) => {
    const before = await items(page);
    await submit(page, '');
    try {
      await page.waitForFunction(() => document.getElementById('error').textContent !== '',
        null, { timeout: WAIT_MS });
    } catch (error) {
      throw new Error(`no refusal shown within ${WAIT_MS} ms`);
    }
    const error = await page.textContent('#error');
    check(error.startsWith('refused: ') && error.includes('empty item'),
      `refusal text "${error}": "refused: ..." naming "empty item"`);
    equal(await items(page), before, 'the list after the refusal');
    return `shows "${error}"`;
  }],
];

/** A port P with P and P + 1 free just now (bound, then closed). */
async function freePort() {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise((resolve, reject) => {
      const server = net.createServer().once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port: p } = server.address();
        server.close(() => resolve(p));
      });
    });
    if (port >= 65535) continue;
    const nextFree = await new Promise((resolve) => {
      const server = net.createServer().once('error', () => resolve(false));
      server.listen(port + 1, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (nextFree) return port;
  }
  throw new Error('no free port pair on 127.0.0.1');
}

/** Starts `todo serve` on a free port; tries once more if it cannot bind. */
async function start({ bin, root }) {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const server = new Peer(bin, ['serve', '--port', String(port), '--root', root]);
    const stop = async () => {
      const exit = await server.terminate();
      if (server.stderr) log(`todo stderr:\n${server.stderr.trimEnd()}`);
      equal(exit, { code: 0, signal: null }, 'todo serve exit after SIGTERM');
    };
    const page = await server.until(() => server.lines.find((l) => l.startsWith('page:')),
      WAIT_MS, 'todo serve "page:" line').catch((error) => ({ error }));
    if (typeof page === 'string') {
      const url = `http://127.0.0.1:${port}/todo/`;
      check(page.includes(url), `page line "${page}" names ${url}`);
      return { pageUrl: url, state: { bin, port }, stop };
    }
    const failedToBind = server.exit !== null;  // it exits at once when it cannot listen
    await stop().catch(() => {});
    if (attempt === 2 || !failedToBind) throw page.error;
    log(`todo serve on port ${port} failed (${server.stderr.trim()}); another port`);
  }
}

runBrowserTest({
  script: 'run_todo.mjs',
  title: 'browser todo example',
  binFlag: 'bin',
  binName: 'todo (examples/, target msock_example_todo)',
  pageNames: ['page'],
  start,
  ready: (page) => page.waitForFunction(() => document.getElementById('status')
    .textContent === '(live)', null, { timeout: 15000 }),
  steps,
});
