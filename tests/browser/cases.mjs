// tests/browser/cases.mjs: the browser test cases, run inside the page by run.mjs one at a
// time (window.msockRunCase). Each case gets the ws URLs, uses the client from clients/js,
// and throws on failure. The peers' behaviour the cases rely on (nng_ws_peer.c and, later,
// msock's own listener): rep answers "echo:" + body, ignores "drop:...", answers
// "delay:MS:..." after MS ms; pub sends "news: N", "sports: N", "weather: N" in turn; pubtext
// sends text frames "text: {json}"; pair echoes "echo:" + body and hangs up on "hangup".

const CASE_DEADLINE_MS = 15000;

/** The client module, loaded by load() from the URL the page was given. */
let msock = null;

function check(condition, message) {
  if (!condition) throw new Error(message);
}

function equal(actual, expected, what) {
  check(actual === expected, `${what}: expected ${JSON.stringify(expected)}, ` +
    `got ${JSON.stringify(actual)}`);
}

/** Resolves with the next `type` event on `target` that satisfies `accept`. */
function nextEvent(target, type, accept = () => true) {
  return new Promise((resolve) => {
    const listener = (event) => {
      if (!accept(event)) return;
      target.removeEventListener(type, listener);
      resolve(event);
    };
    target.addEventListener(type, listener);
  });
}

/** Resolves with the error `promise` rejects with; fails if it resolves. */
async function rejection(promise, what) {
  try {
    const value = await promise;
    throw new Error(`${what}: expected a rejection, got ${JSON.stringify(String(value))}`);
  } catch (error) {
    if (error instanceof msock.MsockError) return error;
    throw error;
  }
}

function text(body) {
  return msock.decodeText(body);
}

/** Ends every socket a case opened, whatever happened. */
async function withSockets(body) {
  const sockets = [];
  const track = (socket) => {
    sockets.push(socket);
    return socket;
  };
  try {
    return await body(track);
  } finally {
    await Promise.all(sockets.map((socket) => socket.close()));
  }
}

function withPath(wsUrl, path) {
  const url = new URL(wsUrl);
  url.pathname = path;
  return url.href;
}

/** A case: the URL keys it needs (run.mjs skips it without them) and its body. */
function needing(keys, run) {
  return { keys, run };
}

const cases = {
  // Requests made before the socket opens wait for it; all 32 are in flight at once and
  // each reply is matched to its request by id.
  req_concurrent_round_trips: needing(['rep'], async ({ rep }) => {
    return withSockets(async (track) => {
      const req = track(new msock.ReqSocket(rep));
      const bodies = Array.from({ length: 32 }, (_, i) => `ping-${i}`);
      const replies = await Promise.all(bodies.map((b) => req.request(b, { timeoutMs: 5000 })));
      replies.forEach((reply, i) => equal(text(reply), `echo:${bodies[i]}`, `reply ${i}`));
      equal(req.pending, 0, 'pending after all replies');
      equal(req.stats.sent, 32, 'messages sent');
      return `${replies.length} replies matched`;
    });
  }),

  // A slow request does not hold up a fast one sent after it.
  req_replies_out_of_order: needing(['rep'], async ({ rep }) => {
    return withSockets(async (track) => {
      const req = track(new msock.ReqSocket(rep));
      await req.whenOpen({ timeoutMs: 5000 });
      const order = [];
      const slow = req.request('delay:300:slow').then((r) => order.push(text(r)));
      const fast = req.request('fast').then((r) => order.push(text(r)));
      await Promise.all([slow, fast]);
      equal(order.join(' '), 'echo:fast echo:delay:300:slow', 'order of replies');
      return order.join(', ');
    });
  }),

  req_timeout_rejects: needing(['rep'], async ({ rep }) => {
    return withSockets(async (track) => {
      const req = track(new msock.ReqSocket(rep));
      await req.whenOpen({ timeoutMs: 5000 });
      const start = performance.now();
      const error = await rejection(req.request('drop:never', { timeoutMs: 200 }), 'request');
      const elapsed = performance.now() - start;
      equal(error.code, 'ETIMEDOUT', 'error code');
      check(/no reply to request 0x[0-9a-f]{8} within 200 ms \(connected\)/.test(
        error.message), `message: ${error.message}`);
      check(elapsed >= 190 && elapsed < 2000, `rejected after ${elapsed} ms`);
      equal(req.pending, 0, 'pending after timeout');
      return `${error.message} after ${Math.round(elapsed)} ms`;
    });
  }),

  // The reply arrives after the deadline: ignored, counted as late, and the socket goes on.
  req_late_reply_ignored: needing(['rep'], async ({ rep }) => {
    return withSockets(async (track) => {
      const req = track(new msock.ReqSocket(rep));
      await req.whenOpen({ timeoutMs: 5000 });
      const dropped = nextEvent(req, 'drop');
      const error = await rejection(req.request('delay:300:late', { timeoutMs: 100 }),
        'request');
      equal(error.code, 'ETIMEDOUT', 'error code');
      equal((await dropped).reason, 'late', 'drop reason');
      equal(req.stats.late, 1, 'late replies');
      equal(text(await req.request('after')), 'echo:after', 'next reply');
      return 'late reply dropped, socket still answers';
    });
  }),

  req_abort_signal: needing(['rep'], async ({ rep }) => {
    return withSockets(async (track) => {
      const req = track(new msock.ReqSocket(rep));
      const controller = new AbortController();
      const pending = req.request('drop:abort me', { signal: controller.signal });
      controller.abort(new Error('user went away'));
      const error = await rejection(pending, 'request');
      equal(error.code, 'ECANCELED', 'error code');
      return error.message;
    });
  }),

  // With a resend interval the same bytes (same id) go out again until the reply comes;
  // the peer answers each copy, so the extra replies are late.
  req_resend_interval: needing(['rep'], async ({ rep }) => {
    return withSockets(async (track) => {
      const req = track(new msock.ReqSocket(rep, { resendIntervalMs: 80 }));
      await req.whenOpen({ timeoutMs: 5000 });
      const lateSeen = nextEvent(req, 'drop', (event) => event.reason === 'late');
      const reply = await req.request('delay:500:resent', { timeoutMs: 5000 });
      equal(text(reply), 'echo:delay:500:resent', 'reply');
      check(req.stats.resent >= 2, `resent ${req.stats.resent} times, expected >= 2`);
      await lateSeen;
      return `resent ${req.stats.resent} times; duplicate replies counted late`;
    });
  }),

  req_refused_wrong_path: needing(['rep'], async ({ rep }) => {
    return withSockets(async (track) => {
      const url = withPath(rep, '/no-such-path');
      const req = track(new msock.ReqSocket(url, { reconnect: false }));
      const error = await rejection(req.whenOpen({ timeoutMs: 5000 }), 'whenOpen');
      equal(error.code, 'ECLOSED', 'error code');
      equal(req.lastError.code, 'ECONNREFUSED', 'last error code');
      check(error.message.includes(url) && error.message.includes('before the handshake'),
        `message: ${error.message}`);
      const late = await rejection(req.request('x'), 'request after close');
      equal(late.code, 'ECLOSED', 'request after close');
      return error.message;
    });
  }),

  // A sub asks for pub.sp.nanomsg.org; a rep listener refuses it.
  sub_refused_by_rep_listener: needing(['rep'], async ({ rep }) => {
    return withSockets(async (track) => {
      const sub = track(new msock.SubSocket(rep, { reconnect: { maxAttempts: 1,
        initialMs: 20 } }));
      const error = await rejection(sub.whenOpen({ timeoutMs: 5000 }), 'whenOpen');
      equal(error.code, 'ECLOSED', 'error code');
      check(error.message.includes('pub.sp.nanomsg.org') && error.message.includes(
        'gave up after 1 reconnect'), `message: ${error.message}`);
      equal(sub.stats.failedDials, 2, 'failed dials');
      return error.message;
    });
  }),

  close_rejects_pending_and_ends_iteration: needing(['rep', 'pub'], async ({ rep, pub }) =>
  {
    const req = new msock.ReqSocket(rep);
    const sub = new msock.SubSocket(pub);
    await Promise.all([req.whenOpen({ timeoutMs: 5000 }), sub.whenOpen({ timeoutMs: 5000 })]);
    const pending = rejection(req.request('drop:forever', { timeoutMs: 10000 }), 'pending');
    const iteration = (async () => {
      let count = 0;
      for await (const _ of sub) count++;  // eslint-disable-line no-unused-vars
      return count;
    })();
    const closed = nextEvent(sub, 'close');
    await Promise.all([req.close(), sub.close()]);
    equal((await pending).code, 'ECLOSED', 'pending request error');
    equal(await iteration, 0, 'messages seen with no subscription');
    const race = await Promise.race([closed.then(() => 'close event'),
      Promise.resolve('no event')]);
    equal(race, 'no event', 'close() of our own emits no close event');
    equal((await rejection(req.request('again'), 'request after close')).code, 'ECLOSED',
      'request after close');
    return 'pending request rejected, iterator ended';
  }),

  // Only subscribed prefixes are delivered; the rest were received and filtered locally.
  sub_filters_by_prefix: needing(['pub'], async ({ pub }) => {
    return withSockets(async (track) => {
      const sub = track(new msock.SubSocket(pub));
      sub.subscribe('news:');
      const news = [];
      for await (const body of sub) {
        news.push(text(body));
        if (news.length === 5) break;
      }
      news.forEach((t) => check(t.startsWith('news: '), `unexpected message ${t}`));
      check(sub.stats.filtered >= 4, `filtered ${sub.stats.filtered}, expected >= 4`);
      // Switch topic; from here on, messages go to the callback (the queue keeps the news
      // that came meanwhile, and is not read again).
      sub.unsubscribe('news:');
      sub.subscribe(msock.encodeText('weather:'));
      const weather = await new Promise((resolve) => {
        const got = [];
        sub.onmessage = (body) => {
          got.push(text(body));
          if (got.length === 3) resolve(got);
        };
      });
      weather.forEach((t) => check(t.startsWith('weather: '), `unexpected message ${t}`));
      let threw = null;
      try {
        sub.unsubscribe('sports:');
      } catch (error) {
        threw = error;
      }
      equal(threw?.code, 'ENOENT', 'unsubscribe of an unknown prefix');
      return `${news[0]} .. ${news[4]}, then ${weather.join(', ')}; ` +
        `${sub.stats.filtered} filtered`;
    });
  }),

  sub_empty_prefix_gets_all: needing(['pub'], async ({ pub }) => {
    return withSockets(async (track) => {
      const sub = track(new msock.SubSocket(pub));
      sub.subscribe('');
      const topics = new Set();
      for (let i = 0; i < 6; i++) {
        topics.add(text(await sub.recv({ timeoutMs: 5000 })).split(':')[0]);
      }
      equal([...topics].sort().join(','), 'news,sports,weather', 'topics seen');
      equal(sub.stats.filtered, 0, 'filtered');
      return [...topics].join(', ');
    });
  }),

  // The publisher sends text frames; the client takes them like binary ones.
  sub_text_frames_json: needing(['pubtext'], async ({ pubtext }) => {
    return withSockets(async (track) => {
      const sub = track(new msock.SubSocket(pubtext));
      sub.subscribe('text: ');
      const first = await sub.recv({ timeoutMs: 5000 });
      const value = msock.decodeJson(first.subarray(6));
      check(Number.isInteger(value.n), `unexpected JSON ${text(first)}`);
      return text(first);
    });
  }),

  pair1_round_trips: needing(['pair1'], async ({ pair1 }) => {
    return withSockets(async (track) => {
      const pair = track(new msock.PairSocket(pair1, { version: 1 }));
      pair.send('one');  // queued until the connection opens
      equal(text(await pair.recv({ timeoutMs: 5000 })), 'echo:one', 'first reply');
      for (const body of ['two', 'three']) pair.send(body);
      equal(text(await pair.recv({ timeoutMs: 5000 })), 'echo:two', 'second reply');
      equal(text(await pair.recv({ timeoutMs: 5000 })), 'echo:three', 'third reply');
      return 'echo:one, echo:two, echo:three';
    });
  }),

  pair0_round_trip: needing(['pair0'], async ({ pair0 }) => {
    return withSockets(async (track) => {
      const pair = track(new msock.PairSocket(pair0, { version: 0 }));
      pair.send(new Uint8Array([0x80, 0x00, 0xff]));
      const reply = await pair.recv({ timeoutMs: 5000 });
      equal([...reply].join(','), [...msock.encodeText('echo:'), 0x80, 0, 0xff].join(','),
        'reply bytes');
      return 'binary body echoed';
    });
  }),

  pair0_text_frames: needing(['pair0text'], async ({ pair0text }) => {
    return withSockets(async (track) => {
      const pair = track(new msock.PairSocket(pair0text, { version: 0, textFrames: true }));
      pair.send(JSON.stringify({ hello: 'wörld' }));
      const reply = text(await pair.recv({ timeoutMs: 5000 }));
      equal(reply, 'echo:{"hello":"wörld"}', 'reply');
      let threw = null;
      try {
        pair.send(new Uint8Array([0xff]));
      } catch (error) {
        threw = error;
      }
      equal(threw?.code, 'EINVAL', 'invalid UTF-8 with textFrames');
      return reply;
    });
  }),

  // A text frame to a listener without the text option: NNG closes with 1003, and the
  // error says so.
  pair0_text_to_binary_listener_closed: needing(['pair0', 'peer_nng'], async ({ pair0 }) => {
    return withSockets(async (track) => {
      // Reconnect stays on: pair0 takes one peer at a time, so a dial racing the previous
      // case's close may be turned away once.
      const pair = track(new msock.PairSocket(pair0, { version: 0, textFrames: true,
        reconnect: { initialMs: 20 } }));
      const closed = nextEvent(pair, 'close', (event) => event.code === 1003);
      pair.send('{"not":"binary"}');
      const event = await closed;
      check(event.wasOpen && event.error.code === 'ECONNRESET' &&
        event.error.message.includes('unsupported data'), `error: ${event.error.message}`);
      return event.error.message;
    });
  }),

  // The same against msock: its listeners accept both frame types and answer each peer in
  // the type it sent (opt::kWsText), so the text frame is answered and the pipe stays.
  pair0_text_to_binary_listener_answered: needing(['pair0', 'peer_msock'],
    async ({ pair0 }) => {
      return withSockets(async (track) => {
        const pair = track(new msock.PairSocket(pair0, { version: 0, textFrames: true,
          reconnect: { initialMs: 20 } }));
        let closes = 0;
        pair.addEventListener('close', () => closes++);
        pair.send('{"not":"binary"}');
        equal(text(await pair.recv({ timeoutMs: 5000 })), 'echo:{"not":"binary"}', 'reply');
        pair.send('{"again":true}');
        equal(text(await pair.recv({ timeoutMs: 5000 })), 'echo:{"again":true}', 'second reply');
        equal(closes, 0, 'close events');
        return 'answered in text, pipe kept';
      });
    }),

  // The peer closes the connection; the client redials with back-off and carries on.
  pair1_reconnects_after_hangup: needing(['pair1'], async ({ pair1 }) => {
    return withSockets(async (track) => {
      const pair = track(new msock.PairSocket(pair1, { reconnect: { initialMs: 50 } }));
      await pair.whenOpen({ timeoutMs: 5000 });
      const lost = nextEvent(pair, 'close');
      const reopened = nextEvent(pair, 'open');
      pair.send('hangup');
      const close = await lost;
      check(close.wasOpen && close.reconnectInMs !== null, 'close event fields');
      await reopened;
      pair.send('again');
      equal(text(await pair.recv({ timeoutMs: 5000 })), 'echo:again', 'reply after redial');
      equal(pair.stats.opens, 2, 'opens');
      return `peer closed with code ${close.code}; redialled after ${close.reconnectInMs} ms`;
    });
  }),
};

/**
 * Loads the client module (its URL relative to this page unless absolute) and returns the
 * cases in order, each as {name, keys}: the URL keys (rep, pub, ...) it needs.
 */
export async function load(clientUrl) {
  msock = await import(new URL(clientUrl, document.baseURI).href);
  return Object.entries(cases).map(([name, { keys }]) => ({ name, keys }));
}

/** Runs one case with a deadline; never throws: returns {ok, ms, detail} or {ok, ms, error}. */
export async function runCase(name, urls) {
  const start = performance.now();
  const elapsed = () => Math.round(performance.now() - start);
  const entry = cases[name];
  if (!entry) return { ok: false, ms: 0, error: `no case named ${name}` };
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`case ran past ${CASE_DEADLINE_MS} ms`)),
      CASE_DEADLINE_MS);
  });
  try {
    const detail = await Promise.race([entry.run(urls), deadline]);
    return { ok: true, ms: elapsed(), detail: String(detail ?? '') };
  } catch (error) {
    return { ok: false, ms: elapsed(), error: `${error?.name}: ${error?.message}` };
  } finally {
    clearTimeout(timer);
  }
}

