#!/usr/bin/env node
// tests/browser/queue_client_test.mjs: ctest js_queue_client. clients/js's QueueClient
// against a scripted RoomsClient (no network): the JSON it sends (protobuf's JSON mapping:
// bytes in base64, 64-bit integers as decimal strings), deliveries to receive() and to
// onMessage, acks, logging in again after a reconnect (not after a kick), and errors.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { HubError, QueueClient, Status } from '../../clients/js/msock.js';
import { FakeRooms } from './fake_rooms.mjs';

/** FakeRooms that reads requests as JSON and plays the server's deliveries. */
class QueueRooms extends FakeRooms {
  take(name) {
    const sent = super.take(name);
    return { ...sent, request: JSON.parse(sent.payload) };
  }

  /** Answers the next request, which must be `name`, with `answer` as JSON text. */
  async answer(name, answer) {
    const sent = this.take(name);
    sent.resolve(JSON.stringify(answer));
    return sent.request;
  }

  deliver(fields) {
    return this.handlers.get('_q/deliver')(JSON.stringify(fields), { name: '_q/deliver' });
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));
const base64 = (text) => Buffer.from(text).toString('base64');

async function loggedIn(options) {
  const rooms = new QueueRooms();
  const queue = new QueueClient(rooms, options);
  const login = queue.login('web', 'page', 's3cret', { window: 4, timeoutMs: 1500 });
  const sent = rooms.take('_q/login');
  assert.deepEqual([sent.request, sent.options.timeoutMs],
    [{ user: 'web', node: 'page', secret: 's3cret', window: 4 }, 1500]);
  sent.resolve(JSON.stringify({ pending: '3' }));
  assert.deepEqual(await login, { pending: 3 });
  return { rooms, queue };
}

test('register sends the JSON mapping and resolves with the secret', async () => {
  const rooms = new QueueRooms();
  const queue = new QueueClient(rooms);
  const first = queue.register('web', 'page', { aliases: ['w'] });
  assert.deepEqual(await rooms.answer('_q/register', { secret: 'abc', aliases: ['w'] }),
    { user: 'web', node: 'page', aliases: ['w'] });
  assert.equal(await first, 'abc');
  const second = queue.register('web', 'phone', { proofNode: 'page', proofSecret: 'abc' });
  assert.deepEqual(await rooms.answer('_q/register', { secret: 'def', copied: 2 }),
    { user: 'web', node: 'phone', proofNode: 'page', proofSecret: 'abc' });
  assert.equal(await second, 'def');
  await assert.rejects(queue.register('', 'x'), (e) => e.code === 'EINVAL');
  await assert.rejects(queue.login('u', 'n', 's', { window: 0 }), (e) => e.code === 'EINVAL');
  assert.equal(rooms.sent.length, 0);
});

test('post: bodies and meta go as base64 (strings as UTF-8), ids come back as strings',
  async () => {
    const { rooms, queue } = await loggedIn();
    const text = queue.post(['bob', '#team'], 'héllo 😀', { clientId: 'c1', meta: 'm',
      singleNode: true, noSelf: true, ttlMs: 60000 });
    assert.deepEqual(await rooms.answer('_q/post',
      { id: '18446744073709551615', errors: ['#team: no such list'], nodes: 2 }),
    { to: ['bob', '#team'], body: base64('héllo 😀'), meta: base64('m'), clientId: 'c1',
      singleNode: true, noSelf: true, ttlMs: '60000' });
    assert.deepEqual(await text, { id: '18446744073709551615', duplicate: false,
      errors: ['#team: no such list'], nodes: 2 });

    const binary = new Uint8Array([0, 255, 128, 10]);
    const bytes = queue.post(['bob'], binary);
    const request = await rooms.answer('_q/post', { id: '7', duplicate: true });
    assert.deepEqual(request, { to: ['bob'], body: 'AP+ACg==' });
    assert.deepEqual(new Uint8Array(Buffer.from(request.body, 'base64')), binary);
    assert.deepEqual(await bytes, { id: '7', duplicate: true, errors: [], nodes: 0 });
    await assert.rejects(queue.post('bob', 'x'), (e) => e.code === 'EINVAL');
    await assert.rejects(queue.post(['bob'], 'x', { ttlMs: -1 }), (e) => e.code === 'EINVAL');
  });

test('deliveries decode (base64, decimal strings) and wait for receive(); ack', async () => {
  const { rooms, queue } = await loggedIn();
  const waiting = queue.receive(1000);
  rooms.deliver({ id: '9007199254740993', fromUser: 'bob', fromNode: 'phone',
    body: base64('hi 😀'), meta: base64('{"k":1}'), to: ['web'], attempt: 2,
    postedMs: '1700000000000', kind: '' });
  rooms.deliver({ id: '12', body: Buffer.from([0xff, 0]).toString('base64') });
  const m = await waiting;
  assert.deepEqual([m.id, m.fromUser, m.fromNode, m.text, m.metaText, m.to, m.attempt,
    m.postedMs, m.expiresMs, m.kind, m.singleNode],
  ['9007199254740993', 'bob', 'phone', 'hi 😀', '{"k":1}', ['web'], 2, 1700000000000, 0, '',
    false]);
  assert.ok(Object.isFrozen(m));
  const second = await queue.receive(1000);
  assert.deepEqual([second.id, [...second.body], second.attempt, second.fromUser],
    ['12', [0xff, 0], 1, '']);

  const acked = queue.ack(m.id, { timeoutMs: 800 });
  const ack = rooms.take('_q/ack');
  assert.deepEqual([ack.request, ack.options.timeoutMs], [{ ids: ['9007199254740993'] }, 800]);
  ack.resolve(JSON.stringify({ removed: 1 }));
  assert.equal(await acked, 1);
  const again = queue.ack(12n);
  assert.deepEqual(await rooms.answer('_q/ack', {}), { ids: ['12'] });
  assert.equal(await again, 0);  // an empty answer: every field is its default
  const nack = queue.nack('12', 2500);
  assert.deepEqual(await rooms.answer('_q/ack', { removed: 0 }),
    { ids: ['12'], type: 'nack', delayMs: '2500' });
  await nack;
  const term = queue.term(12);
  assert.deepEqual(await rooms.answer('_q/ack', {}), { ids: ['12'], type: 'term' });
  await term;
  await assert.rejects(queue.ack('-1'), (e) => e.code === 'EINVAL');
  await assert.rejects(queue.receive(10), (e) => e.code === 'ETIMEDOUT');
});

test('a redelivery of an entry still waiting is kept once; onMessage takes the rest',
  async () => {
    const { rooms, queue } = await loggedIn({ maxBuffered: 2 });
    rooms.deliver({ id: '1', body: base64('a') });
    rooms.deliver({ id: '1', body: base64('a'), attempt: 2 });
    rooms.deliver({ id: '2', body: base64('b') });
    assert.equal(queue.stats.duplicatesSkipped, 1);
    const drops = [];
    queue.addEventListener('drop', (e) => drops.push(e.reason));
    rooms.deliver({ id: '3', body: base64('c') });  // over maxBuffered: the oldest goes
    rooms.deliver('not json');
    assert.deepEqual(drops, ['overflow', 'malformed']);
    const seen = [];
    queue.onMessage((m) => seen.push(m.text));
    rooms.deliver({ id: '4', body: base64('d') });
    assert.deepEqual(seen, ['b', 'c', 'd']);
    queue.onMessage(null);
    rooms.deliver({ id: '5' });
    assert.equal((await queue.receive(100)).text, '');
  });

test('after a reconnect it logs in again with the last arguments, not after a kick',
  async () => {
    const { rooms, queue } = await loggedIn();
    const events = [];
    for (const type of ['loggedin', 'loginerror', 'kicked']) {
      queue.addEventListener(type, (e) => events.push([type, e.pending ?? e.error?.code ??
        e.reason, e.again]));
    }
    rooms.dispatchEvent(new Event('reconnected'));
    assert.deepEqual(await rooms.answer('_q/login', { pending: '2' }),
      { user: 'web', node: 'page', secret: 's3cret', window: 4 });
    await tick();
    rooms.dispatchEvent(new Event('reconnected'));
    rooms.take('_q/login').reject(new HubError(Status.UNAVAILABLE, 'store'));
    await tick();
    rooms.handlers.get('_q/kicked')(JSON.stringify({ reason: 'taken over' }), {});
    rooms.dispatchEvent(new Event('reconnected'));
    assert.equal(rooms.sent.length, 0);
    assert.deepEqual(events, [['loggedin', 2, true], ['loginerror', 14, undefined],
      ['kicked', 'taken over', undefined]]);
    queue.close();
    assert.deepEqual([rooms.handlers.size, queue.credentials], [0, null]);
    await assert.rejects(queue.receive(), (e) => e.code === 'ECLOSED');
  });

test('the hub\'s refusals come through as HubErrors; bad answers as EINVAL', async () => {
  const rooms = new QueueRooms();
  const queue = new QueueClient(rooms);
  const login = queue.login('web', 'page', 'wrong');
  rooms.take('_q/login').reject(new HubError(Status.PERMISSION_DENIED, 'wrong secret'));
  await assert.rejects(login, (e) => e instanceof HubError && e.code === 7 &&
    e.reason === 'wrong secret');
  assert.equal(queue.credentials, null);  // a refused login is not tried again
  rooms.dispatchEvent(new Event('reconnected'));
  assert.equal(rooms.sent.length, 0);
  const post = queue.post(['bob'], 'x');
  rooms.take('_q/post').reject(new HubError(Status.FAILED_PRECONDITION, 'not logged in'));
  await assert.rejects(post, (e) => e.code === Status.FAILED_PRECONDITION);
  const pending = queue.pending();
  rooms.take('_q/pending').resolve('{"messages": [');
  await assert.rejects(pending, (e) => e.code === 'EINVAL');
});

test('lists, aliases, pending and dead letters', async () => {
  const { rooms, queue } = await loggedIn();
  const added = queue.listAdd('team', 'bob');
  assert.deepEqual(await rooms.answer('_q/list', { members: ['bob', 'web'] }),
    { list: 'team', op: 'add', member: 'bob' });
  assert.deepEqual(await added, ['bob', 'web']);
  const members = queue.listMembers('team');
  assert.deepEqual(await rooms.answer('_q/list', {}), { list: 'team', op: 'get' });
  assert.deepEqual(await members, []);
  const removed = queue.listRemove('team', 'bob');
  assert.equal((await rooms.answer('_q/list', { members: ['web'] })).op, 'remove');
  assert.deepEqual(await removed, ['web']);
  const aliases = queue.setAliases(['w', 'taken']);
  assert.deepEqual(await rooms.answer('_q/aliases', { aliases: ['w'] }),
    { aliases: ['w', 'taken'] });
  assert.deepEqual(await aliases, ['w']);
  const pending = queue.pending();
  assert.deepEqual(await rooms.answer('_q/pending', { messages: [{ id: '3' }, { id: '5' }] }),
    {});
  assert.deepEqual(await pending, ['3', '5']);
  const dead = queue.deadLetters({ purge: true });
  assert.deepEqual(await rooms.answer('_q/dead', { messages: [{ id: '4', body: base64('x'),
    kind: '' }], reasons: ['max attempts'] }), { purge: true });
  const [letter] = await dead;
  assert.deepEqual([letter.id, letter.text, letter.reason], ['4', 'x', 'max attempts']);
});
