#!/usr/bin/env node
// tests/browser/services_client_test.mjs: ctest js_services_client. clients/js's
// ServicesClient against a scripted RoomsClient (no network): the events it sends for call,
// provide and withdraw, what a provider's handler sees, a refused provide leaving nothing
// behind, and providing again after a reconnect.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ServicesClient } from '../../clients/js/msock.js';
import { FakeRooms } from './fake_rooms.mjs';

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('call sends _call/<name> with the args and the deadline', async () => {
  const rooms = new FakeRooms();
  const services = new ServicesClient(rooms);
  const answer = services.call('cpp.upper', 'hi', { timeoutMs: 1500 });
  const sent = rooms.take();
  assert.deepEqual([sent.name, sent.payload, sent.options.timeoutMs],
    ['_call/cpp.upper', 'hi', 1500]);
  sent.resolve('HI');
  assert.equal(await answer, 'HI');
  await assert.rejects(services.call('', 'x'), (e) => e.code === 'EINVAL');
  await assert.rejects(services.call('a\nb', 'x'), (e) => e.code === 'EINVAL');
  assert.equal(rooms.sent.length, 0);
});

test('provide installs _serve/<name> and tells the hub; the handler sees the caller',
  async () => {
    const rooms = new FakeRooms();
    const services = new ServicesClient(rooms);
    const seen = [];
    const provided = services.provide('page.reverse', (args, call) => {
      seen.push(call);
      return [...args].reverse().join('');
    });
    const sent = rooms.take();
    assert.deepEqual([sent.name, sent.payload], ['_svc/provide', 'page.reverse']);
    sent.resolve('');
    await provided;
    const answer = await rooms.handlers.get('_serve/page.reverse')('abc',
      { from: 'cpp', timeoutMs: 900 });
    assert.equal(answer, 'cba');
    assert.deepEqual(seen, [{ caller: 'cpp', service: 'page.reverse', timeoutMs: 900 }]);
    assert.deepEqual(services.names, ['page.reverse']);

    const withdrawn = services.withdraw('page.reverse');
    const w = rooms.take();
    assert.deepEqual([w.name, w.payload], ['_svc/withdraw', 'page.reverse']);
    w.resolve('');
    await withdrawn;
    assert.equal(rooms.handlers.has('_serve/page.reverse'), false);
    assert.deepEqual(services.names, []);
  });

test('a refused provide keeps the handler that was there before', async () => {
  const rooms = new FakeRooms();
  const services = new ServicesClient(rooms);
  const first = () => 'first';
  const p1 = services.provide('s', first);
  rooms.take().resolve('');
  await p1;
  const p2 = services.provide('s', () => 'second');
  rooms.take().reject(new Error('limits'));
  await assert.rejects(p2, /limits/);
  assert.equal(await rooms.handlers.get('_serve/s')('', { from: '', timeoutMs: Infinity }),
    'first');
  const p3 = services.provide('t', () => 't');
  rooms.take().reject(new Error('no'));
  await assert.rejects(p3);
  assert.deepEqual([services.names, rooms.handlers.has('_serve/t')], [['s'], false]);
});

test('after a reconnect every service is provided again', async () => {
  const rooms = new FakeRooms();
  const services = new ServicesClient(rooms);
  for (const name of ['a', 'b']) {
    const p = services.provide(name, () => name);
    rooms.take().resolve('');
    await p;
  }
  rooms.dispatchEvent(new Event('reconnected'));
  const again = [rooms.take(), rooms.take()];
  assert.deepEqual(again.map((s) => [s.name, s.payload]),
    [['_svc/provide', 'a'], ['_svc/provide', 'b']]);
  again.forEach((s) => s.resolve(''));
  await tick();
  services.close();
  rooms.dispatchEvent(new Event('reconnected'));
  assert.deepEqual([rooms.sent.length, rooms.handlers.size], [0, 0]);
});
