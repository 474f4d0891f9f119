#!/usr/bin/env node
// tests/browser/run_queue.mjs: the browser queue test (ctest browser_queue). Starts
// queue_server_peer (an msock::QueueServer with its store in a scratch directory, and a C++
// QueueClient, node "peer" of user "cpp"), opens queue_page.html in headless chromium and has
// the page register user "web" with node "page"; the C++ client posts m1..m6 to "web"; the
// page logs in (window 6), receives all six and acknowledges m1, m3 and m5 (each durable);
// then the page is reloaded, logs in again and must get exactly m2, m4 and m6, each once
// (checked against a marker posted after the login: the queue delivers in order). Also: the
// server's refusals as HubErrors, a login again after the hub drops the page's connection,
// bytes and meta from the page to the C++ client, and the store removed at the end.
// Prints one line per step and "browser queue: N passed, N failed"; exit 0 when all passed.
//
//   node run_queue.mjs --peer build/tests/browser/msock_browser_queue_peer --root REPO
//       [--chromium /usr/bin/chromium] [--timeout-s 120] [--only step,step]
//
// Every wait has a deadline (steps 15 s, the whole run --timeout-s); nothing sleeps.

import { existsSync } from 'node:fs';

import { check, equal, runHubTest } from './hub_runner.mjs';

const BODIES = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6'];
const ACKED = ['m1', 'm3', 'm5'];
const KEPT = ['m2', 'm4', 'm6'];

/** What the steps learn: the page's secret, message ids by body, the store's directory. */
const run = { secret: '', ids: {}, dir: '' };

/** Has the C++ client post `bodies` to "web"; records and returns their ids. */
async function post(peer, bodies) {
  const line = await peer.command(`post ${bodies.join(' ')}`, (l) => l.startsWith('post'));
  check(line.startsWith('posted '), line);
  const ids = Object.fromEntries(line.slice('posted '.length).split(' ').map((pair) =>
    pair.split('=')));
  equal(Object.keys(ids), bodies, 'posted bodies');
  Object.assign(run.ids, ids);
  return ids;
}

/** The peer's "stats" line as {posts, acks, deliveries, redeliveries}. */
async function stats(peer) {
  const line = await peer.command('stats', (l) => l.startsWith('stats '));
  return Object.fromEntries(line.split(' ').slice(1).map((pair) => {
    const [key, value] = pair.split('=');
    return [key, Number(value)];
  }));
}

/** Opens the page's node on `hubUrl`, connects and logs in as node "page" of "web". */
function openAndLogin(page, hubUrl) {
  return page.evaluate(async ([url, secret]) => {
    const node = window.queueTest.open(url);
    await node.client.connect({ timeoutMs: 5000 });
    return node.queue.login('web', 'page', secret, { timeoutMs: 5000 });
  }, [hubUrl, run.secret]);
}

/** [text, id, attempt, from] of deliveries, for comparing. */
const shape = (received) => received.map((m) => [m.text, m.id, m.attempt,
  `${m.fromUser}/${m.fromNode}`]);

const steps = [
  // The page registers web/page; a second register, a wrong secret and a post before any
  // login are refused with the server's codes (6, 7, 9).
  ['register_and_refusals', async ({ P, hubUrl, peer }) => {
    run.dir = peer.lines.find((l) => l.startsWith('db ')).slice('db '.length);
    const result = await P.evaluate(async (url) => {
      const { msock, failure } = window.queueTest;
      const node = window.queueTest.open(url);
      await node.client.connect({ timeoutMs: 5000 });
      const secret = await node.queue.register('web', 'page', { timeoutMs: 5000 });
      const again = await failure(node.queue.register('web', 'page', { timeoutMs: 5000 }));
      const rooms = new msock.RoomsClient(url, { reconnect: false });
      const other = new msock.QueueClient(rooms);
      await rooms.connect({ timeoutMs: 5000 });
      const early = await failure(other.post(['cpp'], 'x', { timeoutMs: 5000 }));
      const wrong = await failure(other.login('web', 'page', 'not-it', { timeoutMs: 5000 }));
      await rooms.close();
      return { secret, codes: [again, wrong, early].map((e) => [e.name, e.code]) };
    }, hubUrl);
    check(typeof result.secret === 'string' && result.secret !== '', 'no secret');
    equal(result.codes, [['HubError', 6], ['HubError', 7], ['HubError', 9]],
      'register again, wrong secret, post before login');
    run.secret = result.secret;
    return `secret of ${result.secret.length} chars; refusals 6, 7, 9`;
  }],

  // The C++ client posts m1..m6 while the node is not logged in: they wait in its queue.
  ['posts_wait_in_the_queue', async ({ peer }) => {
    const ids = await post(peer, BODIES);
    const values = BODIES.map((b) => BigInt(ids[b]));
    check(values.every((v, i) => i === 0 || v > values[i - 1]), `ids ${JSON.stringify(ids)}`);
    return `ids ${BODIES.map((b) => ids[b]).join(' ')}`;
  }],

  // The page logs in (window 6), gets all six once, in order, and acks m1, m3, m5.
  ['first_visit_acks_some', async ({ P, hubUrl, peer }) => {
    equal(await openAndLogin(P, hubUrl), { pending: 6 }, 'login');
    const result = await P.evaluate(async (acked) => {
      const { node } = window.queueTest;
      const received = await node.upTo('m6');
      const removed = await node.ack(acked);
      const pending = await node.queue.pending({ timeoutMs: 5000 });
      return { received, removed, pending };
    }, ACKED);
    equal(shape(result.received), BODIES.map((b) => [b, run.ids[b], 1, 'cpp/peer']),
      'first deliveries');
    equal(result.removed, [1, 1, 1], 'acks removed');
    equal(result.pending, KEPT.map((b) => run.ids[b]), 'pending after the acks');
    equal((await stats(peer)).acks, 3, 'acks on the server');
    return `received ${BODIES.join(' ')}; acked ${ACKED.join(' ')}`;
  }],

  // After a reload the page logs in again and gets exactly m2, m4, m6, each once: a marker
  // posted after the login comes after every entry the login brought.
  ['reload_brings_only_the_rest', async ({ P, hubUrl, peer }) => {
    await P.reload({ timeout: 15000 });
    await P.waitForFunction(() => window.queueTest || window.queueLoadError, null,
      { timeout: 10000 });
    equal(await openAndLogin(P, hubUrl), { pending: KEPT.length }, 'login after the reload');
    await post(peer, ['end']);
    const received = await P.evaluate(() => window.queueTest.node.upTo('end'));
    equal(received.map((m) => m.text), [...KEPT, 'end'], 'bodies after the reload');
    equal(received.map((m) => m.id), [...KEPT, 'end'].map((b) => run.ids[b]), 'ids');
    const attempts = received.map((m) => m.attempt);
    check(attempts.slice(0, -1).every((a) => a > 1) && attempts.at(-1) === 1,
      `attempts ${attempts}`);
    const result = await P.evaluate(async (texts) => {
      const { node } = window.queueTest;
      const removed = await node.ack(texts);
      return { removed, pending: await node.queue.pending({ timeoutMs: 5000 }) };
    }, [...KEPT, 'end']);
    equal(result, { removed: [1, 1, 1, 1], pending: [] }, 'acks after the reload');
    equal((await stats(peer)).acks, 7, 'acks on the server');
    return `received ${received.map((m) => `${m.text}#${m.attempt}`).join(' ')}`;
  }],

  // The hub drops the page's connection: the client reconnects and logs in by itself, and
  // deliveries go on.
  ['reconnect_logs_in_again', async ({ P, peer }) => {
    const logins = await P.evaluate(async () => {
      const { node } = window.queueTest;
      node.client.send('kick');
      await node.until(() => node.logins.some((l) => l.again), 10000, 'login again');
      return node.logins;
    });
    equal(logins, [{ pending: KEPT.length, again: false }, { pending: 0, again: true }],
      'logins');
    await post(peer, ['after-kick']);
    const result = await P.evaluate(async () => {
      const { node } = window.queueTest;
      const received = await node.upTo('after-kick');
      return { received: received.slice(-1), removed: await node.ack(['after-kick']) };
    });
    equal([shape(result.received), result.removed],
      [[['after-kick', run.ids['after-kick'], 1, 'cpp/peer']], [1]], 'after the reconnect');
    return 'logged in again by itself; after-kick received and acked';
  }],

  // Bytes and meta from the page reach the C++ client intact; a retry with the same clientId
  // is answered from the dedupe memory and delivered once (a marker posted after it comes
  // next).
  ['page_posts_bytes_to_cpp', async ({ P, peer }) => {
    const result = await P.evaluate(async () => {
      const { queue } = window.queueTest.node;
      const body = new Uint8Array([0, 1, 127, 128, 255]);
      const options = { clientId: 'page-1', meta: 'from the page ✓', timeoutMs: 5000 };
      const first = await queue.post(['cpp'], body, options);
      const retry = await queue.post(['cpp'], body, options);
      const last = await queue.post(['cpp'], 'last', { timeoutMs: 5000 });
      return { first, retry, last };
    });
    equal([result.first.duplicate, result.first.errors, result.first.nodes],
      [false, [], 1], 'first post');
    equal([result.retry.id, result.retry.duplicate], [result.first.id, true], 'retry');
    const hex = Buffer.from('last').toString('hex');
    const marker = `received web/page attempt 1 body ${hex} meta `;
    await peer.until(() => peer.lines.includes(marker), 10000, 'the marker at the C++ client');
    const got = peer.lines.filter((l) => l.startsWith('received '));
    equal(got, ['received web/page attempt 1 body 00017f80ff meta from the page ✓', marker],
      'what the C++ client received');
    return `post ${result.first.id} (retry: duplicate), received once with its meta`;
  }],

  // The page closes; the peer exits 0 and removes its store.
  ['peer_exits_and_removes_its_store', async ({ P, peer }) => {
    await P.evaluate(() => window.queueTest.node.client.close());
    peer.stop();
    equal(await peer.exited(10000), { code: 0, signal: null }, 'peer exit');
    check(peer.lines.includes(`removed ${run.dir}`), `no "removed ${run.dir}" line`);
    check(!existsSync(run.dir), `${run.dir} still exists`);
    return `removed ${run.dir}`;
  }],
];

runHubTest({ script: 'run_queue.mjs', title: 'browser queue', peerName: 'queue_server_peer',
  pageNames: ['P'], ready: 'queueTest', loadError: 'queueLoadError', steps });
