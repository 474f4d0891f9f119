#!/usr/bin/env node
// tests/browser/topics_replica_test.mjs: ctest js_topics_replica. The paths of clients/js's
// TopicsClient that a live hub rarely takes, in node against a scripted RoomsClient: a gap in
// versions (held updates, a fresh snapshot, the held ones replayed), a version notice,
// previews re-applied over a foreign change and dropped when they no longer apply, an echo
// before or after the verdict, a refusal in the middle of three actions in flight, a lost verdict, a removed
// topic, a coalesced update, the base version of string edits, and resubscribing after a
// reconnect. No network, no timers: each step is driven by hand.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { HubError, Status } from '../../clients/js/rooms.js';
import { MsockError } from '../../clients/js/util.js';
import { TopicsClient, changes } from '../../clients/js/msock.js';

/** A RoomsClient stand-in: records emits, answers them by hand, delivers hub events. */
class FakeRooms extends EventTarget {
  constructor() {
    super();
    this.id = 'me';
    this.closed = false;
    this.handlers = new Map();
    this.sent = [];  // {name, body, resolve, reject}
  }

  on(name, handler) {
    if (handler === null) this.handlers.delete(name);
    else this.handlers.set(name, handler);
    return this;
  }

  emit(name, payload) {
    return new Promise((resolve, reject) => {
      this.sent.push({ name, body: JSON.parse(payload), resolve, reject });
    });
  }

  drop() {}

  /** Takes the oldest request named `name`. */
  take(name) {
    const i = this.sent.findIndex((s) => s.name === name);
    assert.ok(i >= 0, `no ${name} sent; sent: ${this.sent.map((s) => s.name)}`);
    return this.sent.splice(i, 1)[0];
  }

  update(u) {
    this.handlers.get('_topics/update')(JSON.stringify(u), {});
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** A client subscribed to `topic` of `type` holding `value` at `version`. */
async function subscribed(topic, type, value, version = 1) {
  const rooms = new FakeRooms();
  const topics = new TopicsClient(rooms);
  const events = [];
  topics.onChange('', (e) => events.push(e));
  const done = topics.subscribe(topic);
  rooms.take('_topics/subscribe').resolve(JSON.stringify({ snapshots: [{ topic, type, value,
    version: String(version) }] }));
  await done;
  events.length = 0;
  return { rooms, topics, events };
}

const update = (topic, version, changeList, extra = {}) =>
  ({ topic, version: String(version), changes: changeList, ...extra });

test('a gap holds updates, takes a snapshot and replays what came after it', async () => {
  const { rooms, topics } = await subscribed('n', 'int', 5, 1);
  rooms.update(update('n', 3, [{ type: 'add', value: 10 }]));  // 2 is missing
  const resync = rooms.take('_topics/subscribe');
  assert.deepEqual(resync.body, { topics: ['n'] });
  rooms.update(update('n', 4, [{ type: 'add', value: 100 }]));
  assert.equal(topics.value('n'), 5);
  resync.resolve(JSON.stringify({ snapshots: [{ topic: 'n', type: 'int', value: 17,
    version: '3' }] }));
  await tick();
  assert.equal(topics.value('n'), 117);
  assert.equal(topics.version('n'), 4);
  assert.equal(rooms.sent.length, 0);
});

test('one snapshot request in flight per topic; a lost answer is asked for again',
  async () => {
    const { rooms, topics } = await subscribed('n', 'int', 5, 1);
    rooms.update(update('n', 3, [{ type: 'add', value: 1 }]));  // a gap
    rooms.update({ topic: 'n', version: '4' });  // a notice while the snapshot is asked for
    const first = rooms.take('_topics/subscribe');
    assert.equal(rooms.sent.length, 0);
    first.reject(new MsockError('ETIMEDOUT', 'lost'));
    await tick();
    const second = rooms.take('_topics/subscribe');
    second.resolve(JSON.stringify({ snapshots: [{ topic: 'n', type: 'int', value: 8,
      version: '4' }] }));
    await tick();
    assert.deepEqual([topics.value('n'), topics.version('n'), rooms.sent.length], [8, 4, 0]);
  });

test('a version notice past the replica asks for a snapshot; an old one does nothing',
  async () => {
    const { rooms, topics } = await subscribed('n', 'int', 5, 3);
    rooms.update({ topic: 'n', version: '3' });
    assert.equal(rooms.sent.length, 0);
    rooms.update({ topic: 'n', version: '5' });  // the hub dropped 4 and 5 for us
    const resync = rooms.take('_topics/subscribe');
    resync.resolve(JSON.stringify({ snapshots: [{ topic: 'n', type: 'int', value: 9,
      version: '5' }] }));
    await tick();
    assert.deepEqual([topics.value('n'), topics.version('n')], [9, 5]);
  });

test('previews are re-applied over a foreign change, or dropped if they no longer apply',
  async () => {
    const { rooms, topics, events } = await subscribed('l', 'list', ['a', 'b'], 1);
    const pop = topics.apply(changes.listPop('l', 1));  // pops 'b'
    const ins = topics.apply(changes.listInsert('l', -1, 'z'));
    assert.deepEqual(topics.value('l'), ['a', 'z']);
    rooms.update(update('l', 2, [{ type: 'pop', position: 0, item: 'a' }], { origin: 'x' }));
    // pop 1 no longer applies to ['b']: skipped; the insert still appends.
    assert.deepEqual(topics.value('l'), ['b', 'z']);
    assert.equal(topics.pending, 2);
    rooms.take('_topics/action').reject(new HubError(Status.OUT_OF_RANGE, 'position 1'));
    await assert.rejects(pop, (e) => e.code === Status.OUT_OF_RANGE);
    assert.deepEqual(topics.value('l'), ['b', 'z']);
    const action = rooms.take('_topics/action');
    rooms.update(update('l', 3, [{ type: 'insert', position: 1, item: 'z' }],
      { origin: 'me', action: action.body.id }));
    action.resolve(JSON.stringify({ versions: { l: '3' } }));
    assert.deepEqual(await ins, { l: 3 });
    assert.deepEqual(topics.value('l'), ['b', 'z']);
    assert.equal(topics.pending, 0);
    assert.deepEqual(events.map((e) => e.kind),
      ['preview', 'preview', 'applied', 'rolledBack', 'applied']);
  });

test('an answer before the echo keeps the preview until the echo', async () => {
  const { rooms, topics } = await subscribed('n', 'int', 0, 7);
  const verdict = topics.apply(changes.add('n', 2));
  const action = rooms.take('_topics/action');
  action.resolve(JSON.stringify({ versions: { n: '8' } }));
  assert.deepEqual(await verdict, { n: 8 });
  assert.equal(topics.value('n'), 2);
  assert.equal(topics.pending, 1);
  rooms.update(update('n', 8, [{ type: 'add', value: 2 }], { origin: 'me',
    action: action.body.id }));
  assert.equal(topics.value('n'), 2);
  assert.equal(topics.pending, 0);
});

test('a refusal rolls back its own preview only, later ones stay on top', async () => {
  const { rooms, topics, events } = await subscribed('s', 'set', [], 1);
  const verdicts = ['x', 'y', 'z'].map((item) => topics.apply(changes.setAdd('s', item)));
  assert.deepEqual(topics.value('s'), ['x', 'y', 'z']);
  const [first, second, third] = [0, 1, 2].map(() => rooms.take('_topics/action'));
  second.reject(new HubError(Status.PERMISSION_DENIED, 'no y'));
  await assert.rejects(verdicts[1], (e) => e.code === 7 && e.reason === 'no y');
  assert.deepEqual(topics.value('s'), ['x', 'z']);
  assert.equal(events.at(-1).kind, 'rolledBack');
  assert.equal(events.at(-1).error.code, 7);
  rooms.update(update('s', 2, [{ type: 'append', item: 'x' }], { origin: 'me',
    action: first.body.id }));
  rooms.update(update('s', 3, [{ type: 'append', item: 'z' }], { origin: 'me',
    action: third.body.id }));
  first.resolve(JSON.stringify({ versions: { s: '2' } }));
  third.resolve(JSON.stringify({ versions: { s: '3' } }));
  await Promise.all([verdicts[0], verdicts[2]]);
  assert.deepEqual(topics.value('s'), ['x', 'z']);
  assert.equal(topics.pending, 0);
});

test('a lost verdict drops the preview and asks for a snapshot', async () => {
  const { rooms, topics } = await subscribed('n', 'int', 1, 1);
  const verdict = topics.apply(changes.add('n', 1));
  rooms.take('_topics/action').reject(new MsockError('ECONNRESET', 'lost'));
  await assert.rejects(verdict, (e) => e.code === 'ECONNRESET');
  assert.equal(topics.value('n'), 1);
  const resync = rooms.take('_topics/subscribe');
  resync.resolve(JSON.stringify({ snapshots: [{ topic: 'n', type: 'int', value: 2,
    version: '2' }] }));
  await tick();
  assert.deepEqual([topics.value('n'), topics.version('n')], [2, 2]);
});

test('a change that does not apply locally is refused without sending', async () => {
  const { rooms, topics } = await subscribed('d', 'dict', { a: 1 }, 1);
  await assert.rejects(topics.apply(changes.dictAdd('d', 'a', 2)),
    (e) => e.code === Status.ALREADY_EXISTS && e.local === true);
  await assert.rejects(topics.apply(changes.dictPop('d', 'b')), (e) => e.code === 5);
  assert.equal(rooms.sent.length, 0);
  assert.equal(topics.pending, 0);
});

test('a removed topic ends the subscription with a rolledBack event', async () => {
  const { rooms, topics, events } = await subscribed('n', 'int', 1, 1);
  rooms.update({ topic: 'n', removed: true });
  assert.equal(topics.value('n'), undefined);
  assert.deepEqual(topics.topics, []);
  assert.deepEqual([events[0].kind, events[0].error.code], ['rolledBack', 5]);
});

test('a coalesced update applies on the version it names', async () => {
  const { rooms, topics } = await subscribed('n', 'float', 0.5, 3);
  rooms.update(update('n', 6, [{ type: 'add', value: 1.5 }], { base: '3' }));
  assert.deepEqual([topics.value('n'), topics.version('n')], [2, 6]);
  assert.equal(rooms.sent.length, 0);
});

test('string edits carry their base version; positions count code points', async () => {
  const { rooms, topics } = await subscribed('t', 'string', 'a😀c', 4);
  const verdict = topics.apply([changes.insertText('t', 2, 'b'),
    changes.deleteText('t', 3, 'c')]);
  assert.equal(topics.value('t'), 'a😀b');
  const action = rooms.take('_topics/action');
  assert.deepEqual(action.body.changes.map((c) => [c.type, c.position, c.base]),
    [['insert', 2, 4], ['delete', 3, 4]]);
  action.reject(new HubError(Status.FAILED_PRECONDITION, 'stale base'));
  await assert.rejects(verdict);
  assert.equal(topics.value('t'), 'a😀c');
});

test('after a reconnect every topic is subscribed again', async () => {
  const { rooms, topics } = await subscribed('n', 'int', 1, 1);
  let pageCallback = 0;
  rooms.onreconnected = () => pageCallback++;  // the page's own, left alone
  rooms.dispatchEvent(new Event('reconnected'));
  const again = rooms.take('_topics/subscribe');
  assert.deepEqual(again.body, { topics: ['n'] });
  rooms.update(update('n', 5, [{ type: 'add', value: 1 }]));  // after the fresh snapshot
  again.resolve(JSON.stringify({ snapshots: [{ topic: 'n', type: 'int', value: 4,
    version: '4' }] }));
  await tick();
  assert.deepEqual([topics.value('n'), topics.version('n'), pageCallback], [5, 5, 0]);
});
