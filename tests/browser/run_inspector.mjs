#!/usr/bin/env node
// tests/browser/run_inspector.mjs: the browser test of the live hub inspector (ctest
// browser_inspector). Starts `msock hub --listen ws --listen tcp --allow-client-topics
// --inspector`, opens the inspector URL it prints on stderr in headless chromium and checks,
// live, that the page follows the hub: a topic created and changed by `msock topic`, a
// `msock topic watch` client coming and going, the hub's own services, the hub going away.
//
//   node run_inspector.mjs --bin build/tools/msock --root REPO
//       [--chromium /usr/bin/chromium] [--timeout-s 120] [--only step,step]
//
// Every wait has a deadline (steps 15 s, the whole run --timeout-s); nothing sleeps.

import { Peer, check, equal, log, runBrowserTest, runToEnd } from './hub_runner.mjs';

const WAIT_MS = 10000;

/** The cell texts of the rows of table body `id`. */
function tableRows(page, id) {
  return page.evaluate((body) => [...document.getElementById(body).rows]
    .map((tr) => [...tr.cells].map((td) => td.textContent)), id);
}

/**
 * Waits until `test(rows, arg)` is truthy, rows being the cell texts of table body `id`
 * (`test` runs in the page: it sees only its arguments). Returns the rows.
 */
async function untilRows(page, id, test, what, arg = null) {
  try {
    await page.waitForFunction(([body, source, a]) => {
      const rows = [...document.getElementById(body).rows].map((tr) =>
        [...tr.cells].map((td) => td.textContent));
      return new Function('rows', 'arg', `return (${source})(rows, arg);`)(rows, a);
    }, [id, test.toString(), arg], { timeout: WAIT_MS });
  } catch (error) {
    throw new Error(`${what}: not within ${WAIT_MS} ms (${error.message.split('\n')[0]}); ` +
      `table ${id}: ${JSON.stringify(await tableRows(page, id))}`);
  }
  return tableRows(page, id);
}

/** Runs `msock topic --dial TCP ...words` to its end; returns its stdout lines. */
async function topic({ bin, tcp }, ...words) {
  const done = await runToEnd(bin, ['topic', '--dial', tcp, ...words]);
  check(done.code === 0, `msock topic ${words.join(' ')}: exit ${JSON.stringify(done)}`);
  return done.lines;
}

const steps = [
  ['status_connected', async (state) => {
    const { page, ws } = state;
    const status = await page.evaluate(() => {
      const s = document.getElementById('status');
      return { text: s.textContent, className: s.className };
    });
    const self = status.text.match(/^connected to (\S+) as (\S+)$/);
    check(status.className === 'ok' && self?.[1] === ws,
      `status ${JSON.stringify(status)}: "connected to ${ws} as ID", class ok`);
    [, , state.self] = self;
    return status.text;
  }],

  ['topic_created_and_applied', async (state) => {
    await topic(state, 'create', 'score', 'int');
    equal(await topic(state, 'apply', 'score', '{"type":"add","value":5}'), ['1'],
      'apply printed');
    const rows = await untilRows(state.page, 'topics', (r) => r.some((c) =>
      c[0] === 'score' && c[1] === 'int' && c[2] === '1' && c[3] === '5'), 'score 1 / 5');
    return JSON.stringify(rows.find((c) => c[0] === 'score'));
  }],

  ['topic_changes_live', async (state) => {
    await state.page.evaluate(() => { window.sameDocument = true; });
    equal(await topic(state, 'apply', 'score', '{"type":"add","value":2}'), ['2'],
      'apply printed');
    const rows = await untilRows(state.page, 'topics', (r) => r.some((c) =>
      c[0] === 'score' && c[1] === 'int' && c[2] === '2' && c[3] === '7'), 'score 2 / 7');
    check(await state.page.evaluate(() => window.sameDocument === true),
      'the page was reloaded');
    return JSON.stringify(rows.find((c) => c[0] === 'score'));
  }],

  ['watch_client_comes_and_goes', async ({ page, bin, tcp, self }) => {
    const withScore = (rows) => rows.filter((c) => c[2].split(' ').includes('score'))
      .map((c) => c[0]);
    // The page itself watches score too (once _sys/clients says so): the new client is the
    // one with score that was not there before.
    const before = withScore(await untilRows(page, 'clients', (r, id) => r.some((c) =>
      c[0] === id && c[2].split(' ').includes('score')), `page ${self} watching score`, self));
    const watcher = new Peer(bin, ['topic', '--dial', tcp, 'watch', 'score']);
    let id;
    let failure = null;
    try {
      await watcher.until(() => watcher.lines.includes('7'), WAIT_MS, 'watch printed 7');
      const rows = await untilRows(page, 'clients', (r, known) => r.some((c) =>
        c[2].split(' ').includes('score') && !known.includes(c[0])), 'the watcher', before);
      const added = withScore(rows).filter((c) => !before.includes(c));
      equal(added.length, 1, `new clients with score (before ${before})`);
      [id] = added;
    } catch (error) {
      failure = error;
    }
    const exit = await watcher.terminate(WAIT_MS);
    if (failure) throw failure;
    equal(exit, { code: 0, signal: null }, 'watch exit after SIGTERM');
    await untilRows(page, 'clients', (r, gone) => r.length > 0 &&
      r.every((c) => c[0] !== gone), `client ${id} gone`, id);
    return `watcher ${id} came and went`;
  }],

  ['services_listed', async ({ page }) => {
    const rows = await untilRows(page, 'services', (r) =>
      r.some((c) => c[0] === 'hub.echo' && c[1] === '(hub)') &&
      r.some((c) => c[0] === 'hub.clients' && c[1] === '(hub)'), 'hub.echo and hub.clients');
    return JSON.stringify(rows);
  }],

  // Last: the page says so when its hub goes (and it does not pretend to be connected).
  ['hub_gone_shown', async ({ page, hub }) => {
    equal(await hub.terminate(WAIT_MS), { code: 0, signal: null }, 'hub exit after SIGTERM');
    try {
      await page.waitForFunction(() => document.getElementById('status').className === 'bad',
        null, { timeout: WAIT_MS });
    } catch (error) {
      throw new Error(`status still "${await page.textContent('#status')}"`);
    }
    const text = await page.textContent('#status');
    check(text.startsWith('disconnected'), `status "${text}"`);
    return text;
  }],
];

async function start({ bin }) {
  const hub = new Peer(bin, ['hub', '--listen', 'ws://127.0.0.1:0/hub', '--listen',
    'tcp://127.0.0.1:0', '--allow-client-topics', '--inspector']);
  const stop = async () => {
    const exit = await hub.terminate();
    log(`hub stderr:\n${hub.stderr.trimEnd()}`);
    equal(exit, { code: 0, signal: null }, 'hub exit after SIGTERM');
  };
  try {
    await hub.until(() => hub.lines.length >= 2 && /inspector: \S+/.test(hub.stderr), WAIT_MS,
      'the hub\'s URLs and inspector line');
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
  const [ws, tcp] = hub.lines;
  const url = hub.stderr.match(/inspector: (\S+)/)[1];
  check(ws.startsWith('ws://') && tcp.startsWith('tcp://'), `bound URLs ${hub.lines}`);
  check(url.endsWith(`?hub=${ws}`), `inspector URL ${url} names hub ${ws}`);
  return { pageUrl: url, state: { hub, ws, tcp, bin }, stop };
}

runBrowserTest({
  script: 'run_inspector.mjs',
  title: 'browser inspector',
  binFlag: 'bin',
  binName: 'msock (tools/, target msock_cli)',
  pageNames: ['page'],
  start,
  ready: (page) => page.waitForFunction(() => window.inspectorReady === true ||
    document.getElementById('status').className === 'bad', null, { timeout: 15000 }),
  steps,
});
