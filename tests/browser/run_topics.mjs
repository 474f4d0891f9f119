#!/usr/bin/env node
// tests/browser/run_topics.mjs: the browser topics test (ctest browser_topics). Starts
// topics_hub_peer (an msock::Hub with a TopicHost holding "todo", a list, and "counter", an
// int, and a C++ TopicsClient over tcp), opens topics_page.html in two headless-chromium
// contexts (pages A and B) and has the two pages and the C++ client edit both topics at once;
// then every replica must equal the hub. Also: a refused change rolls back on its page, a
// change that cannot apply is refused locally, a page resubscribes after a reconnect. And
// services both ways: pages call the C++ client's cpp.upper, the C++ client calls a page's.
// Prints one line per step and "browser topics: N passed, N failed"; exit 0 when all passed.
//
//   node run_topics.mjs --peer build/tests/browser/msock_browser_topics_peer --root REPO
//       [--chromium /usr/bin/chromium] [--timeout-s 120] [--only step,step]
//
// Every wait has a deadline (steps 15 s, the whole run --timeout-s); nothing sleeps.

import { check, equal, runHubTest } from './hub_runner.mjs';

const EDITS = 20;
const TOPICS = ['todo', 'counter', 'note'];

/** The peer's "values" line, parsed: {hub: side, cpp: side}, side = {todo, counter, versions}. */
async function values(peer) {
  const line = await peer.command('values', (l) => l.startsWith('values '));
  return JSON.parse(line.slice('values '.length));
}

/** Waits until `page` has the hub's versions, and returns its side (as the peer prints). */
function replicaOf(page, versions) {
  return page.evaluate(async ([v, names]) => {
    const { topics } = window.topicsTest.editor;
    await window.topicsTest.editor.reach(v);
    const side = Object.fromEntries(names.map((name) => [name, topics.value(name)]));
    side.versions = Object.fromEntries(names.map((name) => [name, topics.version(name)]));
    return side;
  }, [versions, TOPICS]);
}

/** Every replica (pages, C++) equals the hub; returns the hub's side. */
async function converged({ A, B, peer }) {
  const now = await values(peer);
  equal(now.cpp, now.hub, 'C++ replica vs hub');
  for (const [name, page] of [['A', A], ['B', B]]) {
    equal(await replicaOf(page, now.hub.versions), now.hub, `page ${name} vs hub`);
  }
  return now.hub;
}

const steps = [
  ['connect_and_subscribe', async ({ A, B, hubUrl, peer }) => {
    const seen = await Promise.all([A, B].map((page) => page.evaluate(async (url) => {
      const editor = window.topicsTest.open(url);
      const id = await editor.client.connect({ timeoutMs: 5000 });
      const todo = await editor.topics.subscribe('todo', { timeoutMs: 5000 });
      const counter = await editor.topics.subscribe('counter', { timeoutMs: 5000 });
      const note = await editor.topics.subscribe('note', { timeoutMs: 5000 });
      return { id, todo, counter, note, kinds: editor.events.map((e) => e.kind) };
    }, hubUrl)));
    check(seen[0].id && seen[1].id && seen[0].id !== seen[1].id, `ids ${seen[0].id}`);
    for (const s of seen) {
      equal([s.todo, s.counter, s.note, s.kinds], [[], 0, '', ['snapshot', 'snapshot',
        'snapshot']], 'first values');
    }
    const hub = await converged({ A, B, peer });
    return `A is ${seen[0].id}, B is ${seen[1].id}; versions ${JSON.stringify(hub.versions)}`;
  }],

  // A, B and the C++ client each append EDITS items and add 1 EDITS times, every action in
  // flight at once; the hub orders them. All three replicas end equal to the hub's values.
  ['concurrent_edits_converge', async ({ A, B, peer }) => {
    const before = await values(peer);
    const cpp = peer.command(`edit ${EDITS}`, (l) => l.startsWith('edit'), 14000);
    const pages = await Promise.all([['A', A], ['B', B]].map(([name, page]) =>
      page.evaluate(([prefix, n]) => window.topicsTest.editor.edit(prefix, n), [name, EDITS])));
    equal(pages, [[], []], 'refusals on the pages');
    equal(await cpp, `edited ${EDITS}`, 'C++ edits');
    const hub = await converged({ A, B, peer });
    const want = ['A', 'B', 'cpp'].flatMap((p) => Array.from({ length: EDITS }, (_, i) =>
      `${p}-${i}`)).sort();
    equal([...hub.todo].sort(), [...before.hub.todo, ...want].sort(), 'todo items');
    equal(hub.counter, before.hub.counter + 3 * EDITS, 'counter');
    equal(hub.versions, { todo: before.hub.versions.todo + 3 * EDITS,
      counter: before.hub.versions.counter + 3 * EDITS, note: before.hub.versions.note },
    'versions');
    const previews = await A.evaluate(() => window.topicsTest.editor.events.filter(
      (e) => e.kind === 'preview').length);
    equal(previews, 2 * EDITS, 'previews on A');
    return `${hub.todo.length} items, counter ${hub.counter}, all replicas equal`;
  }],

  // Text: the pages append pieces at the end of what they show (positions in code points,
  // made against their confirmed version, which the hub rebases over the others' inserts)
  // while the C++ client inserts at the start; every piece lands whole, once, everywhere.
  ['concurrent_text_converges', async ({ A, B, peer }) => {
    const n = 10;
    const cpp = peer.command(`type ${n}`, (l) => l.startsWith('type'), 14000);
    const pages = await Promise.all([['A', A], ['B', B]].map(([name, page]) =>
      page.evaluate(([prefix, count]) => window.topicsTest.editor.type(prefix, count),
        [name, n])));
    equal(pages, [[], []], 'refusals on the pages');
    equal(await cpp, `typed ${n}`, 'C++ inserts');
    const hub = await converged({ A, B, peer });
    const pieces = ['A😀', 'B😀', 'cpp'].flatMap((p) => Array.from({ length: n }, (_, i) =>
      `[${p}-${i}]`));
    for (const piece of pieces) {
      check(hub.note.split(piece).length === 2, `${piece} once in ${JSON.stringify(hub.note)}`);
    }
    equal(hub.note.length, pieces.join('').length, 'note length');
    return `${Array.from(hub.note).length} code points, same everywhere`;
  }],

  // The hub's validator refuses "forbidden" items (7): A's preview shows it at once, the
  // refusal rolls it back (a rolledBack event, the value as before); B never sees it.
  ['refused_change_rolls_back', async ({ A, B, peer }) => {
    const result = await A.evaluate(async () => {
      const { editor, msock, describe } = window.topicsTest;
      const before = editor.topics.value('todo');
      const verdict = editor.topics.apply(msock.changes.listInsert('todo', -1,
        'forbidden fruit'), { timeoutMs: 5000 });
      const shown = editor.topics.value('todo');
      let error = null;
      try {
        await verdict;
      } catch (e) {
        error = describe(e);
      }
      const rolledBack = editor.events.filter((e) => e.kind === 'rolledBack');
      return { before, shown, after: editor.topics.value('todo'), error,
        rolledBack: rolledBack.map((e) => ({ topic: e.topic, code: e.code })),
        pending: editor.topics.pending };
    });
    equal(result.shown, [...result.before, 'forbidden fruit'], 'preview');
    check(result.error !== null, 'the apply resolved');
    equal([result.error.name, result.error.code, result.error.status, result.error.local],
      ['HubError', 7, 'PERMISSION_DENIED', false], 'error');
    check(result.error.reason.includes('no forbidden items'), `reason: ${result.error.reason}`);
    equal(result.after, result.before, 'value after the refusal');
    equal([result.rolledBack, result.pending], [[{ topic: 'todo', code: 7 }], 0],
      'rolledBack events, pending');
    const hub = await converged({ A, B, peer });
    check(!JSON.stringify(hub.todo).includes('forbidden'), 'the hub kept it');
    const seenByB = await B.evaluate(() => window.topicsTest.editor.events.some(
      (e) => JSON.stringify(e.value).includes('forbidden')));
    equal(seenByB, false, 'B saw it');
    return result.error.message;
  }],

  // A change that does not apply to the shown value is refused at once, nothing sent.
  ['local_refusal_sends_nothing', async ({ A, B, peer }) => {
    const before = await values(peer);
    const result = await A.evaluate(async () => {
      const { editor, msock, describe } = window.topicsTest;
      const sent = editor.client.stats.eventsOut;
      const out = [];
      for (const change of [msock.changes.listPop('todo', 1000),
        msock.changes.dictAdd('todo', 'k', 1), msock.changes.add('counter', 0.5)]) {
        try {
          await editor.topics.apply(change);
          out.push('applied');
        } catch (error) {
          out.push(describe(error));
        }
      }
      return { out: out.map((e) => [e.code, e.local]),
        sent: editor.client.stats.eventsOut - sent, pending: editor.topics.pending };
    });
    equal(result, { out: [[11, true], [3, true], [3, true]], sent: 0, pending: 0 },
      'local refusals');
    equal((await converged({ A, B, peer })).versions, before.hub.versions, 'hub versions');
    return 'out of range (11), wrong type (3), int + 0.5 (3): refused locally';
  }],

  // The hub drops A's connection; A comes back and subscribes every topic again (a fresh
  // snapshot each), while the C++ client edits; A ends equal to the hub.
  ['reconnect_resubscribes', async ({ A, B, peer }) => {
    const snapshots = await A.evaluate(() => {
      const { editor } = window.topicsTest;
      const count = editor.events.filter((e) => e.kind === 'snapshot').length;
      editor.client.send('kick');
      return count;
    });
    equal(await peer.command('edit 5', (l) => l.startsWith('edit')), 'edited 5', 'C++ edits');
    const after = await A.evaluate(async (count) => {
      const { editor } = window.topicsTest;
      await editor.until(() => editor.reconnects > 0 && editor.events.filter(
        (e) => e.kind === 'snapshot').length >= count + 3, 10000, 'snapshots again');
      return { reconnects: editor.reconnects, opens: editor.client.stats.opens };
    }, snapshots);
    equal(after, { reconnects: 1, opens: 2 }, 'reconnect');
    const hub = await converged({ A, B, peer });
    return `A back with 3 fresh snapshots; ${hub.todo.length} items everywhere`;
  }],

  // fetch reads without subscribing; creating and removing topics is the hub's (7).
  ['fetch_create_remove', async ({ B, peer }) => {
    const now = await values(peer);
    const result = await B.evaluate(async () => {
      const { editor, describe } = window.topicsTest;
      const counter = await editor.topics.fetch('counter', { timeoutMs: 5000 });
      const refusals = [];
      for (const attempt of [() => editor.topics.create('mine', 'string', 'x'),
        () => editor.topics.remove('todo'), () => editor.topics.fetch('nope')]) {
        try {
          await attempt();
          refusals.push('done');
        } catch (error) {
          refusals.push(describe(error).code);
        }
      }
      return { counter, refusals };
    });
    equal(result, { counter: now.hub.counter, refusals: [7, 7, 5] }, 'fetch, create, remove');
    return `counter ${result.counter}; create and remove refused (7), fetch of nope (5)`;
  }],

  // Services both ways: a page calls the C++ client's cpp.upper (the hub passes the caller's
  // id and deadline on), the C++ client calls page B's page.reverse; errors keep their codes.
  ['services_both_ways', async ({ A, B, peer }) => {
    const result = await A.evaluate(async () => {
      const { editor, describe } = window.topicsTest;
      const upper = await editor.services.call('cpp.upper', 'hello page', { timeoutMs: 5000 });
      let missing = null;
      try {
        await editor.services.call('nobody.home', 'x', { timeoutMs: 5000 });
      } catch (error) {
        missing = describe(error);
      }
      return { upper, missing: [missing?.name, missing?.code], id: editor.client.id };
    });
    equal([result.upper, result.missing], ['HELLO PAGE', ['HubError', 5]], 'calls from A');
    const served = await peer.until(() => peer.lines.find((l) =>
      l.startsWith('served cpp.upper for ')), 5000, 'served line');
    const [, caller, ms] = served.match(/^served cpp.upper for (\S+) within (-?\d+)$/) ?? [];
    check(caller === result.id && Number(ms) > 0 && Number(ms) <= 5000, served);
    await B.evaluate(() => {
      const { editor, msock } = window.topicsTest;
      return editor.services.provide('page.reverse', (args, call) => {
        editor.calls.push(call);
        if (args === '') {
          throw new msock.HubError(msock.Status.INVALID_ARGUMENT, 'nothing to reverse');
        }
        return Array.from(args).reverse().join('');
      }, { timeoutMs: 5000 });
    });
    const answers = [];
    for (const command of ['call page.reverse hello', 'call page.reverse']) {
      answers.push(await peer.command(command, (l) => l.startsWith('call')));
    }
    equal(answers, ['called page.reverse olleh',
      'call page.reverse failed 3 nothing to reverse'], 'calls from C++');
    const calls = await B.evaluate(() => window.topicsTest.editor.calls.map((c) =>
      [c.caller, c.service, c.timeoutMs > 0 && c.timeoutMs <= 5000]));
    equal(calls, [['cpp', 'page.reverse', true], ['cpp', 'page.reverse', true]], 'B saw');
    await B.evaluate(() => window.topicsTest.editor.services.withdraw('page.reverse',
      { timeoutMs: 5000 }));
    const gone = await peer.command('call page.reverse x', (l) => l.startsWith('call'));
    check(gone.startsWith('call page.reverse failed 5 '), `after withdraw: ${gone}`);
    return `cpp.upper served ${caller} (deadline ${ms} ms); page.reverse answered C++`;
  }],

  // B's connection drops while it holds a call: the caller gets 14 at once. B comes back and
  // provides its services again by itself.
  ['service_provider_gone', async ({ A, B }) => {
    await B.evaluate(() => {
      const { editor } = window.topicsTest;
      editor.calls = [];
      return Promise.all([
        editor.services.provide('page.hang', (args, call) => {
          editor.calls.push(call);
          editor.changed();
          return new Promise(() => {});  // never answers
        }, { timeoutMs: 5000 }),
        editor.services.provide('page.echo', (args) => args, { timeoutMs: 5000 })]);
    });
    await A.evaluate(() => {
      const { editor, describe } = window.topicsTest;
      editor.hung = editor.services.call('page.hang', 'x', { timeoutMs: 10000 }).then(
        () => 'answered', (error) => describe(error));
    });
    const reconnects = await B.evaluate(async () => {
      const { editor } = window.topicsTest;
      await editor.until(() => editor.calls.length > 0, 5000, 'the call reached B');
      const before = editor.reconnects;
      editor.client.send('kick');
      await editor.until(() => editor.reconnects > before, 10000, 'B reconnected');
      // The hub handles a client's events in order: once this is answered, so is the
      // provide that B sent again on reconnecting.
      await editor.topics.fetch('counter', { timeoutMs: 5000 });
      return editor.reconnects - before;
    });
    equal(reconnects, 1, 'B reconnects');
    const result = await A.evaluate(async () => {
      const { editor } = window.topicsTest;
      const hung = await editor.hung;
      const echo = await editor.services.call('page.echo', 'still there', { timeoutMs: 5000 });
      return { hung: [hung.name, hung.code], echo };
    });
    equal(result, { hung: ['HubError', 14], echo: 'still there' }, 'provider gone, back');
    return 'the held call failed 14 at once; B provides page.echo again after reconnecting';
  }],

  ['close_and_peer_exit', async ({ A, B, peer }) => {
    const codes = await Promise.all([A, B].map((page) => page.evaluate(async () => {
      const { editor, msock } = window.topicsTest;
      await editor.client.close();
      try {
        await editor.topics.apply(msock.changes.add('counter', 1));
        return 'resolved';
      } catch (error) {
        return error.code;
      }
    })));
    equal(codes, ['ECLOSED', 'ECLOSED'], 'apply after close');
    peer.stop();
    const exit = await peer.until(() => peer.exit, 10000, 'peer exit');
    equal(exit, { code: 0, signal: null }, 'peer exit');
    return 'clients closed; peer exited 0';
  }],
];

runHubTest({ script: 'run_topics.mjs', title: 'browser topics', peerName: 'topics_hub_peer',
  pageNames: ['A', 'B'], ready: 'topicsTest', loadError: 'topicsLoadError', steps });
