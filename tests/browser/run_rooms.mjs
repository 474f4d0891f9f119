#!/usr/bin/env node
// tests/browser/run_rooms.mjs: the browser rooms test (ctest browser_rooms). Starts
// rooms_hub_peer (an msock::Hub on ws and tcp with a C++ watcher client in room "chat"), opens
// rooms_page.html in two headless-chromium contexts (pages A and B), and drives the two
// RoomsClients of clients/js/rooms.js through a chat and the protocol's corners, checking the
// watcher's "watcher got ..." lines on the peer's stdout. Prints one line per step and
// "browser rooms: N passed, N failed"; exit 0 when all passed, 1 otherwise, 2 for setup.
//
//   node run_rooms.mjs --peer build/tests/browser/msock_browser_rooms_peer --root REPO
//       [--chromium /usr/bin/chromium] [--timeout-s 120] [--only step,step]
//
// Every wait has a deadline (steps 15 s, the whole run --timeout-s); nothing sleeps.

import { check, equal, runHubTest } from './hub_runner.mjs';

/** The steps, in order; each gets the shared state and returns a detail string. */
const steps = [
  // Both pages connect over ws text frames and get distinct ids from the connect hook.
  ['connect_two_pages', async ({ A, B, hubUrl }) => {
    const ids = await Promise.all([A, B].map((page) => page.evaluate(
      (url) => window.rooms.open(url).client.connect({ timeoutMs: 5000 }), hubUrl)));
    check(ids[0] && ids[1] && ids[0] !== ids[1], `ids ${JSON.stringify(ids)}`);
    return `A is ${ids[0]}, B is ${ids[1]}`;
  }],

  // The connect hook refuses token "bad": connect() rejects with its code and reason and
  // the client is closed (it does not redial).
  ['connect_refused', async ({ A, hubUrl }) => {
    const result = await A.evaluate(async (url) => {
      const client = new window.rooms.msock.RoomsClient(url, { token: 'bad' });
      try {
        return { id: await client.connect({ timeoutMs: 5000 }) };
      } catch (error) {
        return { ...window.rooms.describe(error), closed: client.closed };
      }
    }, hubUrl);
    equal([result.name, result.code, result.status, result.reason, result.closed],
      ['HubError', 7, 'PERMISSION_DENIED', 'bad token', true], 'refusal');
    return result.message;
  }],

  ['both_join_chat', async ({ A, B }) => {
    for (const page of [A, B]) {
      const rooms = await page.evaluate(async () => {
        const { client } = window.rooms.participant;
        await client.join('chat', '/', { timeoutMs: 5000 });
        return client.rooms;
      });
      equal(rooms, [{ room: 'chat', ns: '/' }], 'rooms after join');
    }
    return 'A and B in chat';
  }],

  // The hub relays to chat but the sender: B and the watcher get it (the ack counts the
  // copies), A does not. A copy for A would have come on A's connection before the ack did,
  // so looking right after the ack is enough.
  ['a_says_b_hears', async ({ A, B }) => {
    const sent = await A.evaluate(async () => {
      const p = window.rooms.participant;
      const ack = await p.client.emit('say', 'hello from A', { timeoutMs: 5000 });
      return { ack, saidToA: p.said };
    });
    equal(sent, { ack: '2', saidToA: [] }, 'ack and what A heard');
    const heard = await B.evaluate(() => window.rooms.participant.hear('hello from A'));
    equal(heard, { text: 'hello from A', room: 'chat' }, 'B heard');
    return 'B heard A; A did not hear itself';
  }],

  ['b_answers_a_hears', async ({ A, B }) => {
    const sent = await B.evaluate(async () => {
      const p = window.rooms.participant;
      const ack = await p.client.emit('say', 'hello from B', { timeoutMs: 5000 });
      return { ack, saidToB: p.said.map((entry) => entry.text) };
    });
    equal(sent, { ack: '2', saidToB: ['hello from A'] }, 'ack and what B heard');
    const heard = await A.evaluate(async () => {
      const p = window.rooms.participant;
      await p.hear('hello from B');
      return p.said;
    });
    equal(heard, [{ text: 'hello from B', room: 'chat' }], 'A heard');
    return 'A heard B';
  }],

  // The C++ client (over tcp, binary protobuf) in the same room saw both.
  ['watcher_saw_both', async ({ peer }) => {
    await peer.line('watcher got hello from A');
    await peer.line('watcher got hello from B');
    return 'watcher printed both lines';
  }],

  ['join_forbidden_refused', async ({ A }) => {
    const result = await A.evaluate(async () => {
      const { client } = window.rooms.participant;
      try {
        await client.join('forbidden', '/', { timeoutMs: 5000 });
        return { joined: true };
      } catch (error) {
        return { ...window.rooms.describe(error), rooms: client.rooms };
      }
    });
    equal([result.name, result.code, result.reason, result.rooms],
      ['HubError', 7, 'no one may enter forbidden', [{ room: 'chat', ns: '/' }]], 'refusal');
    return result.message;
  }],

  // Text and bytes payloads both ways, and 20 emits in flight matched by request id.
  ['emit_ack_round_trip', async ({ A }) => {
    const result = await A.evaluate(async () => {
      const { client } = window.rooms.participant;
      const text = await client.emit('echo', 'ping wörld', { timeoutMs: 5000 });
      const bytes = await client.emit('echo', new Uint8Array([0, 255, 1, 128]),
        { timeoutMs: 5000 });
      const many = await Promise.all(Array.from({ length: 20 },
        (_, i) => client.emit('echo', `n${i}`, { timeoutMs: 5000 })));
      return { text, isBytes: bytes instanceof Uint8Array, bytes: Array.from(bytes), many,
        pending: client.pending };
    });
    equal(result, { text: 'ping wörld', isBytes: true, bytes: [0, 255, 1, 128],
      many: Array.from({ length: 20 }, (_, i) => `n${i}`), pending: 0 }, 'answers');
    return 'text, bytes and 20 concurrent emits answered';
  }],

  // A lone UTF-16 surrogate travels as U+FFFD (the hub's JSON parser would refuse its \u
  // escape and hang up); a message over maxMessageBytes is refused before it is sent (the
  // hub would hang up too). Either way the connection stays.
  ['edge_payloads_keep_connection', async ({ A }) => {
    const result = await A.evaluate(async () => {
      const { client } = window.rooms.participant;
      const lone = await client.emit('echo', 'a\ud800b', { timeoutMs: 5000 });
      let big;
      try {
        big = { value: await client.emit('echo', 'x'.repeat(client.maxMessageBytes),
          { timeoutMs: 5000 }) };
      } catch (error) {
        big = window.rooms.describe(error);
      }
      const after = await client.emit('echo', 'still here', { timeoutMs: 5000 });
      return { lone, big: big.code, after, opens: client.stats.opens };
    });
    equal(result, { lone: 'a\ufffdb', big: 'EMSGSIZE', after: 'still here', opens: 1 },
      'edge payloads');
    return 'lone surrogate sent as U+FFFD; oversize refused locally';
  }],

  ['emit_unhandled_is_unimplemented', async ({ A }) => {
    const result = await A.evaluate(async () => {
      try {
        return { value: await window.rooms.participant.client.emit('nope', 'x',
          { timeoutMs: 5000 }) };
      } catch (error) {
        return window.rooms.describe(error);
      }
    });
    equal([result.name, result.code, result.status], ['HubError', 12, 'UNIMPLEMENTED'],
      'error');
    check(result.reason.includes('nope'), `reason: ${result.reason}`);
    return result.message;
  }],

  // "slow" answers after 1000 ms; the emit gives up at 100 ms. The late answer comes before
  // the next emit's (one client's events are handled in order), so it is counted by then.
  ['emit_timeout', async ({ A }) => {
    const result = await A.evaluate(async () => {
      const { client } = window.rooms.participant;
      const start = performance.now();
      let first;
      try {
        first = { value: await client.emit('slow', '1000', { timeoutMs: 100 }) };
      } catch (error) {
        first = window.rooms.describe(error);
      }
      const ms = Math.round(performance.now() - start);
      const after = await client.emit('echo', 'after slow', { timeoutMs: 5000 });
      return { first, ms, after, late: client.stats.late };
    });
    equal([result.first.code, result.after, result.late], ['ETIMEDOUT', 'after slow', 1],
      'timeout, next answer, late count');
    check(result.ms >= 90 && result.ms < 1000, `rejected after ${result.ms} ms`);
    return `${result.first.message} (after ${result.ms} ms)`;
  }],

  // Hub -> page events with an ack: the hub's "ask" handler emits "question" to the page and
  // answers with the page handler's value; a throwing page handler gives code 13.
  ['hub_emits_to_page', async ({ A }) => {
    const result = await A.evaluate(async () => {
      const { client } = window.rooms.participant;
      const value = await client.emit('ask', 'ping', { timeoutMs: 5000 });
      const bytes = await client.emit('ask', new Uint8Array([0xff, 0x01]),
        { timeoutMs: 5000 });
      let thrown;
      try {
        thrown = { value: await client.emit('ask', 'throw', { timeoutMs: 5000 }) };
      } catch (error) {
        thrown = window.rooms.describe(error);
      }
      return { value, bytes: bytes instanceof Uint8Array ? Array.from(bytes) : bytes, thrown,
        handlerErrors: client.stats.handlerErrors };
    });
    const answerBytes = [...Buffer.from('answer:'), 0x01, 0xff];
    equal([result.value, result.bytes, result.thrown.code, result.handlerErrors],
      ['answer:pong:ping', answerBytes, 13, 1], 'answers');
    check(result.thrown.reason === 'handler threw: page refuses',
      `reason: ${result.thrown.reason}`);
    return `answer "${result.value}"; thrown: ${result.thrown.message}`;
  }],

  ['send_without_ack', async ({ A, B, peer }) => {
    await B.evaluate(() => window.rooms.participant.client.send('say', 'no ack from B'));
    await A.evaluate(() => window.rooms.participant.hear('no ack from B'));
    await peer.line('watcher got no ack from B');
    return 'A and the watcher heard it';
  }],

  // The hub closes A's connection; A redials with previousId, gets its id back, and its
  // onreconnected joins chat again; then B's message reaches it.
  ['reconnect_rejoins', async ({ A, B }) => {
    const result = await A.evaluate(async () => {
      const p = window.rooms.participant;
      const before = p.client.id;
      p.client.send('kick');
      await p.until(() => p.rejoined.length > 0 || p.rejoinErrors.length > 0, 10000,
        'reconnected and joined again');
      return { before, after: p.client.id, info: p.rejoined[0], errors: p.rejoinErrors,
        reconnects: p.client.stats.reconnects, opens: p.client.stats.opens,
        rooms: p.client.rooms };
    });
    equal(result.errors, [], 'rejoin errors');
    equal([result.after, result.info.sameId, result.info.previousId, result.info.rooms,
      result.reconnects, result.opens, result.rooms],
    [result.before, true, result.before, [{ room: 'chat', ns: '/' }], 1, 2,
      [{ room: 'chat', ns: '/' }]], 'reconnect');
    const ack = await B.evaluate(() => window.rooms.participant.client.emit('say',
      'welcome back', { timeoutMs: 5000 }));
    equal(ack, '2', 'copies (A again and the watcher)');
    await A.evaluate(() => window.rooms.participant.hear('welcome back'));
    return `A reconnected as ${result.after} and heard B again`;
  }],

  // Rooms live in namespaces: "side" in /games is not "chat" in /, and the watcher is not
  // there. The ack counts the copies the hub made, so what it says is what was sent.
  ['namespaces_and_leave', async ({ A, B }) => {
    for (const page of [A, B]) {
      await page.evaluate(() => window.rooms.participant.client.join('side', '/games',
        { timeoutMs: 5000 }));
    }
    const copies = await A.evaluate(() => window.rooms.participant.client.emit('say', 'gg',
      { ns: '/games', timeoutMs: 5000 }));
    equal(copies, '1', 'copies of a say in /games (B only)');
    const heard = await B.evaluate(() => window.rooms.participant.hear('gg'));
    equal(heard, { text: 'gg', room: 'side', ns: '/games' }, 'B heard');
    const rooms = await A.evaluate(async () => {
      const { client } = window.rooms.participant;
      await client.leave('side', '/games', { timeoutMs: 5000 });
      return client.rooms;
    });
    equal(rooms, [{ room: 'chat', ns: '/' }], 'A\'s rooms after leave');
    const after = await B.evaluate(() => window.rooms.participant.client.emit('say', 'anyone?',
      { ns: '/games', timeoutMs: 5000 }));
    equal(after, '0', 'copies once A left');
    return 'a say in /games reached B only; none after A left';
  }],

  // close() ends the clients: later calls reject with ECLOSED; then the peer closes its
  // watcher and hub and exits 0 when its stdin closes.
  ['close_and_peer_exit', async ({ A, B, peer }) => {
    const codes = await Promise.all([A, B].map((page) => page.evaluate(async () => {
      const { client } = window.rooms.participant;
      await client.close();
      try {
        await client.emit('echo', 'x');
        return 'resolved';
      } catch (error) {
        return error.code;
      }
    })));
    equal(codes, ['ECLOSED', 'ECLOSED'], 'emit after close');
    peer.stop();
    const exit = await peer.until(() => peer.exit, 10000, 'peer exit');
    equal(exit, { code: 0, signal: null }, 'peer exit');
    return 'clients closed; peer exited 0';
  }],
];

runHubTest({ script: 'run_rooms.mjs', title: 'browser rooms', peerName: 'rooms_hub_peer',
  pageNames: ['A', 'B'], ready: 'rooms', loadError: 'roomsLoadError', steps });
