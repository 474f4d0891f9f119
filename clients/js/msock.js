// clients/js/msock.js: msock's browser client, an ES module with no build step. It speaks the
// SP websocket mapping (shared/spec/sp-wire.md §5-6) to msock, NNG or nanomsg listeners:
// req (many requests in flight, matched by id), sub (local prefix filter) and pair (v0, v1);
// and, from rooms.js, a RoomsClient for msock's rooms-and-events hub (protocols/rooms/WIRE.md),
// with a TopicsClient (topics.js: synced state), a ServicesClient (services.js) and a
// QueueClient (queue.js: the durable queue) on top.
//
//   import { ReqSocket, decodeText } from './msock.js';
//   const req = new ReqSocket('ws://127.0.0.1:5555/rep');
//   const reply = await req.request('ping', { timeoutMs: 2000 });
//   console.log(decodeText(reply));

import { SpSocket } from './socket.js';
import { Inbox, MsockError, getWord, startsWith, strictText, toBytes, withWord } from './util.js';

export { HubError, RoomsClient, Status } from './rooms.js';
export { TOPIC_TYPES, applyChange, canonicalJson, changes, jsonEqual } from './topic_changes.js';
export { QueueClient } from './queue.js';
export { ServicesClient } from './services.js';
export { TopicsClient } from './topics.js';
export { SpEvent, SpSocket } from './socket.js';
export { MsockError, decodeJson, decodeText, encodeText } from './util.js';

const ID_BIT = 0x80000000;
const LATE_IDS_KEPT = 1024;

/**
 * A REQ socket (SP reqrep, id 0x30) dialling a REP: asks for subprotocol
 * `rep.sp.nanomsg.org`. Unlike a cooked NNG req it keeps many requests in flight, each
 * with its own 31-bit id (high bit set on the wire, random start), and resolves each one
 * with the reply that carries its id. Replies to a request no longer waited for (timed out,
 * aborted, or already answered after a resend) are counted in `stats.late`, replies with ids
 * never sent in `stats.unknown`; both are ignored and reported by a `drop` event.
 * Requests made while disconnected wait for the connection (as SP req does); after a
 * reconnect the ones still pending are sent again with the same id.
 *
 * @example
 * const req = new ReqSocket('ws://127.0.0.1:5555/rep', { requestTimeoutMs: 5000 });
 * const replies = await Promise.all(['a', 'b'].map((body) => req.request(body)));
 */
export class ReqSocket extends SpSocket {
  /**
   * @param {string | URL} url the rep's ws:// or wss:// URL.
   * @param {object} [options]
   * @param {number} [options.requestTimeoutMs=30000] default deadline of request().
   * @param {number} [options.resendIntervalMs=0] resend a pending request (same id, same
   *   bytes) this often, like NNG_OPT_REQ_RESENDTIME; 0 = never.
   * @param {boolean} [options.resendOnReconnect=true] send pending requests again on a new
   *   connection; with false they wait for their reply or deadline.
   * @param {object|boolean} [options.reconnect] see SpSocket.
   * @param {number} [options.maxRecvBytes=0] ignore larger replies (0 = no limit).
   * @param {Function} [options.WebSocket] WebSocket constructor (default the global one).
   * @throws {MsockError} EINVAL for a bad URL or options (textFrames: requests carry an id
   *   with the high bit set, which is never valid UTF-8, so they cannot travel as text).
   */
  constructor(url, options = {}) {
    if (options.textFrames) {
      throw new MsockError('EINVAL', 'msock req: textFrames cannot be used by req: every ' +
        'request starts with a 32-bit id whose high bit is set, which is not valid UTF-8');
    }
    super(url, 'req', 'rep.sp.nanomsg.org', options);
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30000;
    this.resendIntervalMs = options.resendIntervalMs ?? 0;
    this.resendOnReconnect = options.resendOnReconnect ?? true;
    const random = new Uint32Array(1);
    globalThis.crypto.getRandomValues(random);
    this.nextId = random[0] & 0x7fffffff;
    /** @type {Map<number, object>} outstanding requests by wire id. */
    this.pendingById = new Map();
    /** Ids no longer waited for (answered, timed out, aborted), oldest first. */
    this.expired = new Set();
  }

  /** Number of requests waiting for their reply. @returns {number} */
  get pending() {
    return this.pendingById.size;
  }

  /**
   * Sends one request and waits for its reply.
   * @param {string | Uint8Array | ArrayBuffer} body a string is sent as UTF-8.
   * @param {{timeoutMs?: number, signal?: AbortSignal}} [options] `timeoutMs` defaults to
   *   the socket's requestTimeoutMs (Infinity = no deadline); `signal` aborts the request.
   * @returns {Promise<Uint8Array>} the reply body. Rejects with MsockError ETIMEDOUT (no
   *   reply in time), ECANCELED (aborted), ECLOSED (socket closed) or EINVAL (bad body).
   */
  request(body, { timeoutMs = this.requestTimeoutMs, signal } = {}) {
    if (this.closed) return Promise.reject(this.closedError);
    let bytes;
    try {
      bytes = toBytes(body);
    } catch (error) {
      return Promise.reject(error);
    }
    const id = this.allocateId();
    const entry = { id, payload: withWord(id, bytes), ws: null, timer: null,
      resendTimer: null, signal, onAbort: null, resolve: null, reject: null };
    const promise = new Promise((resolve, reject) => {
      entry.resolve = resolve;
      entry.reject = reject;
    });
    this.pendingById.set(id, entry);
    if (timeoutMs !== Infinity) {
      entry.timer = setTimeout(() => {
        const state = this.isOpen ? 'connected' : `not connected; last error: ${
          this.lastError?.message ?? 'none yet'}`;
        this.expire(entry, new MsockError('ETIMEDOUT', `msock ${this.describe()}: no reply ` +
          `to request 0x${id.toString(16)} within ${timeoutMs} ms (${state})`));
      }, timeoutMs);
    }
    if (signal) {
      if (signal.aborted) {
        this.expire(entry, new MsockError('ECANCELED', `msock ${this.describe()}: request ` +
          'aborted', { cause: signal.reason }));
        return promise;
      }
      entry.onAbort = () => this.expire(entry, new MsockError('ECANCELED',
        `msock ${this.describe()}: request 0x${id.toString(16)} aborted`,
        { cause: signal.reason }));
      signal.addEventListener('abort', entry.onAbort, { once: true });
    }
    if (this.resendIntervalMs > 0) {
      entry.resendTimer = setInterval(() => {
        if (this.sendPayload(entry.payload)) {
          entry.ws = this.ws;
          this.stats.resent++;
        }
      }, this.resendIntervalMs);
    }
    if (this.sendPayload(entry.payload)) entry.ws = this.ws;
    return promise;
  }

  allocateId() {
    for (;;) {
      const id = (ID_BIT | this.nextId) >>> 0;
      this.nextId = (this.nextId + 1) & 0x7fffffff;
      if (!this.pendingById.has(id)) return id;
    }
  }

  /** Removes a pending request and settles it with `error`, or with `reply` if no error. */
  finish(entry, error, reply) {
    this.pendingById.delete(entry.id);
    if (entry.timer !== null) clearTimeout(entry.timer);
    if (entry.resendTimer !== null) clearInterval(entry.resendTimer);
    if (entry.onAbort) entry.signal.removeEventListener('abort', entry.onAbort);
    if (error) entry.reject(error);
    else entry.resolve(reply);
  }

  expire(entry, error) {
    if (!this.pendingById.has(entry.id)) return;
    this.remember(entry.id);
    this.finish(entry, error);
  }

  /** Keeps the last ids we stopped waiting for, so a reply to one counts as late. */
  remember(id) {
    this.expired.add(id);
    if (this.expired.size > LATE_IDS_KEPT) {
      this.expired.delete(this.expired.values().next().value);
    }
  }

  onOpen() {
    for (const entry of this.pendingById.values()) {
      if (entry.ws !== null && !this.resendOnReconnect) continue;
      const again = entry.ws !== null;
      if (this.sendPayload(entry.payload)) {
        entry.ws = this.ws;
        if (again) this.stats.resent++;
      }
    }
  }

  onPayload(bytes) {
    if (bytes.length < 4) {
      this.drop('malformed', bytes.length);
      return;
    }
    const id = getWord(bytes);
    const entry = this.pendingById.get(id);
    if (entry) {
      this.remember(id);
      this.finish(entry, null, bytes.subarray(4));
    } else {
      this.drop((id & ID_BIT) && this.expired.has(id) ? 'late' : 'unknown', bytes.length);
    }
  }

  onShutdown(error) {
    for (const entry of [...this.pendingById.values()]) this.finish(entry, error);
  }
}

/** Shared receive side of SubSocket and PairSocket: onmessage, recv(), async iteration. */
class ReceivingSocket extends SpSocket {
  constructor(url, role, peerProtocol, options) {
    super(url, role, peerProtocol, options);
    this.inbox = new Inbox(options.recvQueueLimit ?? 1024, () => this.describe(),
      () => this.drop('overflow', 0));
  }

  /**
   * Callback given every received body (a Uint8Array) as it arrives; while it is set,
   * nothing queues for recv() or iteration. Set null to go back to queueing.
   * @type {((body: Uint8Array) => void) | null}
   */
  get onmessage() {
    return this.inbox.onmessage;
  }

  set onmessage(callback) {
    this.inbox.onmessage = callback;
  }

  /**
   * Takes the next received body, waiting for one if none is queued.
   * @param {{timeoutMs?: number}} [options] default no deadline.
   * @returns {Promise<Uint8Array>} rejects with ETIMEDOUT, or ECLOSED once the socket is
   *   closed and the queue is empty.
   */
  recv({ timeoutMs = Infinity } = {}) {
    return this.inbox.recv(timeoutMs);
  }

  /**
   * `for await (const body of socket)` yields received bodies until the socket is closed.
   * Leaving the loop early does not close the socket.
   * @returns {AsyncIterator<Uint8Array>}
   */
  [Symbol.asyncIterator]() {
    return this.inbox.iterator();
  }

  onShutdown(error) {
    this.inbox.close(error);
  }
}

/**
 * A SUB socket (SP pubsub, id 0x21) dialling a PUB: asks for subprotocol
 * `pub.sp.nanomsg.org`. Subscriptions never travel on the wire: the publisher sends
 * everything and this socket keeps the messages whose body starts with one of its prefixes
 * (bytes; the empty prefix matches all). With no subscription nothing is delivered. The
 * others are counted in `stats.filtered`. A sub never sends.
 *
 * @example
 * const sub = new SubSocket('ws://127.0.0.1:5556/pub');
 * sub.subscribe('news:');
 * for await (const body of sub) console.log(decodeText(body));
 */
export class SubSocket extends ReceivingSocket {
  /**
   * @param {string | URL} url the publisher's ws:// or wss:// URL.
   * @param {object} [options]
   * @param {number} [options.recvQueueLimit=1024] bodies kept for recv(); past that the
   *   oldest is dropped and counted in `stats.overflow`.
   * @param {object|boolean} [options.reconnect] see SpSocket.
   * @param {number} [options.maxRecvBytes=0] ignore larger messages (0 = no limit).
   * @param {Function} [options.WebSocket] WebSocket constructor (default the global one).
   * @throws {MsockError} EINVAL for a bad URL or options.
   */
  constructor(url, options = {}) {
    super(url, 'sub', 'pub.sp.nanomsg.org', options);
    /** @type {Map<string, Uint8Array>} */
    this.topics = new Map();
  }

  /**
   * Starts delivering messages whose body starts with `prefix`. Subscribing twice to the
   * same prefix changes nothing.
   * @param {string | Uint8Array} prefix a string is matched as its UTF-8 bytes; '' = all.
   */
  subscribe(prefix) {
    const bytes = toBytes(prefix, 'prefix');
    this.topics.set(bytes.join(','), bytes.slice());
  }

  /**
   * Stops delivering messages for `prefix` (exactly as it was subscribed).
   * @param {string | Uint8Array} prefix
   * @throws {MsockError} ENOENT when that prefix is not subscribed.
   */
  unsubscribe(prefix) {
    const bytes = toBytes(prefix, 'prefix');
    if (!this.topics.delete(bytes.join(','))) {
      throw new MsockError('ENOENT', `msock ${this.describe()}: not subscribed to that prefix`);
    }
  }

  onPayload(bytes) {
    for (const topic of this.topics.values()) {
      if (startsWith(bytes, topic)) {
        this.inbox.push(bytes);
        return;
      }
    }
    this.stats.filtered++;
  }
}

/**
 * A PAIR socket dialling a pair listener: version 1 (NNG pair1, id 0x11, subprotocol
 * `pair1.sp.nanomsg.org`, a 4-byte hop count in front of each body) or version 0 (pair0,
 * id 0x10, `pair.sp.nanomsg.org`, bare bodies; nanomsg's NN_PAIR). Messages sent while
 * disconnected wait in a bounded queue and go out when the connection opens.
 *
 * @example
 * const pair = new PairSocket('ws://127.0.0.1:5557/pair', { version: 1 });
 * pair.onmessage = (body) => console.log(decodeText(body));
 * pair.send('hello');
 */
export class PairSocket extends ReceivingSocket {
  /**
   * @param {string | URL} url the pair listener's ws:// or wss:// URL.
   * @param {object} [options]
   * @param {0|1} [options.version=1] pair protocol version; must match the listener's.
   * @param {number} [options.maxTtl=8] drop received pair1 messages whose hop count is
   *   higher (counted in `stats.ttl`), as NNG does.
   * @param {number} [options.sendQueueLimit=1024] messages held while disconnected.
   * @param {number} [options.recvQueueLimit=1024] bodies kept for recv().
   * @param {boolean} [options.textFrames=false] send text frames (the listener must accept
   *   them, e.g. msock's text option); the bytes sent must be valid UTF-8.
   * @param {object|boolean} [options.reconnect] see SpSocket.
   * @param {number} [options.maxRecvBytes=0] ignore larger messages (0 = no limit).
   * @param {Function} [options.WebSocket] WebSocket constructor (default the global one).
   * @throws {MsockError} EINVAL for a bad URL or options.
   */
  constructor(url, options = {}) {
    const version = options.version ?? 1;
    if (version !== 0 && version !== 1) {
      throw new MsockError('EINVAL', `msock pair: version must be 0 or 1, got ${version}`);
    }
    super(url, `pair${version}`, version === 1 ? 'pair1.sp.nanomsg.org' :
      'pair.sp.nanomsg.org', options);
    this.version = version;
    this.maxTtl = options.maxTtl ?? 8;
    this.sendQueueLimit = options.sendQueueLimit ?? 1024;
    this.outbox = [];
  }

  /**
   * Sends one message, or queues it until the connection opens.
   * @param {string | Uint8Array | ArrayBuffer} body a string is sent as UTF-8.
   * @throws {MsockError} ECLOSED after close(); EAGAIN when the queue is full while
   *   disconnected; EINVAL for a bad body (or one that is not UTF-8 with textFrames).
   */
  send(body) {
    if (this.closed) throw this.closedError;
    const bytes = toBytes(body);
    const payload = this.version === 1 ? withWord(1, bytes) : bytes;
    if (this.textFrames && strictText(payload) === null) {
      throw new MsockError('EINVAL', `msock ${this.describe()}: textFrames is on but this ` +
        'body is not valid UTF-8');
    }
    if (this.outbox.length === 0 && this.sendPayload(payload)) return;
    if (this.outbox.length >= this.sendQueueLimit) {
      throw new MsockError('EAGAIN', `msock ${this.describe()}: not connected and ` +
        `${this.sendQueueLimit} messages already wait; last error: ` +
        `${this.lastError?.message ?? 'none yet'}`);
    }
    this.outbox.push(payload);
  }

  onOpen() {
    while (this.outbox.length > 0 && this.sendPayload(this.outbox[0])) this.outbox.shift();
  }

  onPayload(bytes) {
    if (this.version === 0) {
      this.inbox.push(bytes);
      return;
    }
    if (bytes.length < 4 || getWord(bytes) > 255) {
      this.drop('malformed', bytes.length);
      return;
    }
    if (getWord(bytes) > this.maxTtl) {
      this.drop('ttl', bytes.length);
      return;
    }
    this.inbox.push(bytes.subarray(4));
  }

  onShutdown(error) {
    this.outbox = [];
    super.onShutdown(error);
  }
}
