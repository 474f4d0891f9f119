// clients/js/rooms.js: the browser side of msock's rooms-and-events protocol
// (protocols/rooms/WIRE.md): a RoomsClient that talks to an msock::Hub in protobuf's JSON
// mapping over ws text frames: hello / welcome, join and leave, events with acknowledgements
// both ways, and a re-dial with back-off followed by a reconnected callback. Exported by
// msock.js.

import { SpEvent, SpSocket } from './socket.js';
import { MsockError, decodeText, encodeText, fromBase64, toBase64, toBytes, wellFormed }
  from './util.js';

const STATUS_NAMES = ['OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED',
  'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE',
  'DATA_LOSS', 'UNAUTHENTICATED'];
const LATE_IDS_KEPT = 1024;
const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;  // the hub socket's default kMaxRecvSize
const MAX_REQUEST_ID = 0xffffffff;
const MAX_TIMEOUT_MS = 0xffffffff;  // Event.timeoutMs is a uint32

/**
 * The status codes a hub and its handlers answer with (absl / gRPC codes), by name:
 * `Status.PERMISSION_DENIED === 7`. Throw `new HubError(Status.NOT_FOUND, 'no such item')`
 * from an event handler to answer with a code of your choice.
 * @type {Readonly<Record<string, number>>}
 */
export const Status = Object.freeze(Object.fromEntries(STATUS_NAMES.map((name, i) => [name, i])));

/**
 * An error answered by the other side: the hub refusing this client (connect()), refusing a
 * join, or an event handler failing (emit()). Unlike the MsockError it extends, its `code` is
 * a number, the status code from the wire (1..16, see Status; an unknown one reads as 2,
 * UNKNOWN); `reason` is the hub's text as sent and `status` the code's name. So
 * `typeof error.code === 'number'` tells an answer from the hub from a local failure
 * (ETIMEDOUT, ECONNRESET, ECLOSED, ...).
 */
export class HubError extends MsockError {
  /**
   * @param {number} code a status code, 1..16.
   * @param {string} reason what went wrong, for the other side to read.
   * @param {{cause?: unknown, context?: string}} [options] `context` goes in front of the
   *   message (not of `reason`).
   */
  constructor(code, reason, options = {}) {
    const known = Number.isInteger(code) && code > 0 && code < STATUS_NAMES.length ? code : 2;
    const text = String(reason ?? '');
    super(known, `${options.context ? `${options.context}: ` : ''}${STATUS_NAMES[known]}` +
      `${text ? `: ${text}` : ''}`, options);
    this.name = 'HubError';
    /** @type {number} */
    this.code = known;
    /** The code's name, e.g. 'PERMISSION_DENIED'. @type {string} */
    this.status = STATUS_NAMES[known];
    /** The other side's text as sent. @type {string} */
    this.reason = text;
  }
}

/** One message as the UTF-8 bytes of its JSON. */
function encodeMessage(message) {
  return encodeText(JSON.stringify(message,
    (key, value) => (typeof value === 'string' ? wellFormed(value) : value)));
}

/** Puts a payload in an Event or Ack: a string as `text`, bytes as base64 `payload`. */
function putBody(message, payload, what) {
  if (payload === undefined || payload === null) return;
  if (typeof payload === 'string') {
    message.text = payload;
  } else {
    message.payload = toBase64(toBytes(payload, what));
  }
}

/** The payload of a received Event or Ack: a string, a Uint8Array, or '' when absent. */
function takeBody(message) {
  if (typeof message.text === 'string') return message.text;
  if (typeof message.payload === 'string') return fromBase64(message.payload);
  if (message.text !== undefined || message.payload !== undefined) {
    throw new TypeError('text and payload must be strings');
  }
  return '';
}

function checkName(name, what) {
  if (typeof name !== 'string' || name === '') {
    throw new MsockError('EINVAL', `msock hub-client: ${what} must be a non-empty string, ` +
      `got ${JSON.stringify(name) ?? String(name)}`);
  }
}

function checkNamespace(ns) {
  if (typeof ns !== 'string') {
    throw new MsockError('EINVAL', `msock hub-client: a namespace must be a string ('/' is ` +
      `the default), got ${typeof ns}`);
  }
}

/**
 * A client of an msock::Hub (the rooms-and-events protocol, protocols/rooms/WIRE.md). It
 * dials `url` asking for subprotocol `hub.sp.nanomsg.org` as soon as it is constructed and
 * speaks protobuf's JSON mapping in text frames (the hub answers each peer in the frame type
 * it sends). On every new connection it says hello (`wantId`, `token`, and
 * the id it had before as `previousId`); connect() waits for the hub's welcome.
 *
 * - join() / leave() ask the hub to put this client in a room or take it out; the hub's join
 *   hook decides, a refusal rejects with a HubError carrying its code and reason.
 * - emit() sends an event and resolves with the hub handler's answer (its ack); send() sends
 *   one without asking for an answer. Many may be in flight, matched by request id.
 * - on() / otherwise() handle the hub's events; a handler's return value (or the value of
 *   the promise it returns) is the answer when the hub asked for one.
 * - After a lost connection it redials with back-off (option `reconnect`, see SpSocket)
 *   and says hello again with its previous id. The hub forgot its rooms meanwhile; once it is
 *   welcomed back `onreconnected` runs (and a `reconnected` event fires) with the rooms it
 *   was in, so the page can join them again. Requests already sent when the connection was
 *   lost reject with ECONNRESET (their handler may or may not have run); requests made while
 *   disconnected wait (in a queue of `sendQueueLimit`) and go out after the next welcome.
 *
 * Payloads are strings (sent as UTF-8 in `text`; a lone UTF-16 surrogate becomes U+FFFD, as
 * in UTF-8 encoding) or bytes (Uint8Array, ArrayBuffer or a
 * view; sent base64 in `payload`). What arrives is a string when the hub sent `text` (it
 * does for every UTF-8 payload), a Uint8Array otherwise, and '' for an empty payload.
 *
 * Events (addEventListener), besides SpSocket's `open`, `close`, `error` and `drop` (with
 * reasons `late`, `unknown`, `malformed`, `unhandled`):
 * - `welcome` {id, reconnected, first}: after every welcome;
 * - `reconnected` {id, previousId, sameId, rooms}: after every welcome but the first;
 * - `refused` {error}: the hub refused this client (a HubError); the client is then closed;
 * - `handlererror` {name, error}: an event handler threw or rejected.
 *
 * @example
 * const hub = new RoomsClient('ws://127.0.0.1:8080/hub', { token: 'secret' });
 * hub.on('said', (text, { room }) => show(room, text));
 * hub.onreconnected = ({ rooms }) => rooms.forEach(({ room, ns }) => hub.join(room, ns));
 * const id = await hub.connect({ timeoutMs: 5000 });
 * await hub.join('lobby');
 * const answer = await hub.emit('say', 'hello', { timeoutMs: 2000 });
 */
export class RoomsClient extends SpSocket {
  /**
   * @param {string | URL} url the hub's ws:// or wss:// URL.
   * @param {object} [options]
   * @param {string} [options.wantId=''] the id to ask for in hello ('' = any).
   * @param {string} [options.token=''] credentials for the hub's connect hook.
   * @param {number} [options.ackTimeoutMs=30000] default deadline of emit(), join() and
   *   leave() (Infinity = none).
   * @param {number} [options.sendQueueLimit=1024] messages held while not welcomed.
   * @param {number} [options.maxMessageBytes=1048576] refuse to send a larger message
   *   (EMSGSIZE) instead of having the hub drop the connection: set it to the hub socket's
   *   kMaxRecvSize (1 MiB by default); 0 = no limit.
   * @param {object|boolean} [options.reconnect] see SpSocket.
   * @param {number} [options.maxRecvBytes=0] ignore larger messages (0 = no limit).
   * @param {Function} [options.WebSocket] WebSocket constructor (default the global one).
   * @throws {MsockError} EINVAL for a bad URL or options.
   */
  constructor(url, options = {}) {
    for (const key of ['wantId', 'token']) {
      if (options[key] !== undefined && typeof options[key] !== 'string') {
        throw new MsockError('EINVAL', `msock hub-client: option ${key} must be a string`);
      }
    }
    super(url, 'hub-client', 'hub.sp.nanomsg.org', { ...options, textFrames: true });
    this.wantId = options.wantId ?? '';
    this.token = options.token ?? '';
    this.ackTimeoutMs = options.ackTimeoutMs ?? 30000;
    this.sendQueueLimit = options.sendQueueLimit ?? 1024;
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    /** This client's id, from the last welcome ('' before the first). @type {string} */
    this.id = '';
    /** True while the current connection has been welcomed. @type {boolean} */
    this.welcomed = false;
    /**
     * Called after every welcome but the first with {id, previousId, sameId, rooms}: `rooms`
     * lists the {room, ns} this client had joined (and not left), which the hub has forgotten.
     * `sameId` is false when the hub gave another id. A returned promise is awaited only to
     * report its failure (as a `handlererror` event).
     * @type {((info: {id: string, previousId: string, sameId: boolean,
     *   rooms: Array<{room: string, ns: string}>}) => (void|Promise<void>)) | null}
     */
    this.onreconnected = null;
    /** @type {Map<string, Function>} */
    this.handlers = new Map();
    this.fallback = null;
    /** Joined rooms by `${ns}\n${room}`, kept across reconnects. */
    this.joined = new Map();
    /** @type {Map<number, object>} requests (emit, join, leave) waiting for their ack. */
    this.pendingById = new Map();
    this.expired = new Set();
    this.nextId = 1;
    /** Messages waiting for a welcome: {bytes, entry}. */
    this.outbox = [];
    this.connectWaiters = new Set();
    this.refusal = null;
    this.everWelcomed = false;
    Object.assign(this.stats, { welcomes: 0, reconnects: 0, eventsIn: 0, eventsOut: 0,
      unhandled: 0, handlerErrors: 0, acksDropped: 0 });
    this.addEventListener('close', () => this.connectionLost());
  }

  /** Number of emits, joins and leaves waiting for their answer. @returns {number} */
  get pending() {
    return this.pendingById.size;
  }

  /**
   * The rooms this client has joined and not left, as {room, ns}; kept across a lost
   * connection (the hub forgets them, see onreconnected).
   * @returns {Array<{room: string, ns: string}>}
   */
  get rooms() {
    return [...this.joined.values()].map((entry) => ({ ...entry }));
  }

  /**
   * Waits until the hub has welcomed this client (at once if it has) and returns its id.
   * After a lost connection it waits for the next welcome.
   * @param {{timeoutMs?: number}} [options] default no deadline.
   * @returns {Promise<string>} the id. Rejects with a HubError when the hub refuses this
   *   client (code and reason from its connect hook), ETIMEDOUT, or ECLOSED (closed, or gave
   *   up reconnecting).
   */
  connect({ timeoutMs = Infinity } = {}) {
    if (this.welcomed) return Promise.resolve(this.id);
    if (this.closed) return Promise.reject(this.refusal ?? this.closedError);
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject, timer: null };
      if (timeoutMs !== Infinity) {
        waiter.timer = setTimeout(() => {
          this.connectWaiters.delete(waiter);
          reject(new MsockError('ETIMEDOUT', `msock ${this.describe()}: no welcome from ` +
            `the hub within ${timeoutMs} ms (${this.state()})`));
        }, timeoutMs);
      }
      this.connectWaiters.add(waiter);
    });
  }

  /**
   * Asks the hub to put this client in `room` of namespace `ns`.
   * @param {string} room
   * @param {string} [ns='/'] may be left out: join(room, options) is join(room, '/', options).
   * @param {{timeoutMs?: number, signal?: AbortSignal}} [options] `timeoutMs` defaults to
   *   ackTimeoutMs.
   * @returns {Promise<void>} resolves once the hub has let this client in. Rejects with a
   *   HubError (the join hook's refusal, e.g. code 7 and its reason; 3 for a bad name; 8 for
   *   too many rooms), or ETIMEDOUT, ECONNRESET (connection lost first), ECANCELED, ECLOSED,
   *   EAGAIN, EMSGSIZE, EINVAL.
   */
  join(room, ns = '/', options = {}) {
    return this.membership('join', room, ns, options);
  }

  /**
   * Asks the hub to take this client out of `room` of namespace `ns` (leaving a room one is
   * not in succeeds).
   * @param {string} room
   * @param {string} [ns='/']
   * @param {{timeoutMs?: number, signal?: AbortSignal}} [options] as join().
   * @returns {Promise<void>} rejects as join() does.
   */
  leave(room, ns = '/', options = {}) {
    return this.membership('leave', room, ns, options);
  }

  /**
   * Sends an event to the hub and waits for its handler's answer.
   * @param {string} name the event name.
   * @param {string | Uint8Array | ArrayBuffer | ArrayBufferView} [payload=''] a string goes
   *   as `text`, bytes as base64 `payload`.
   * @param {{timeoutMs?: number, ns?: string, signal?: AbortSignal}} [options]
   *   `timeoutMs` defaults to ackTimeoutMs and travels with the event (a hub relaying it, as
   *   for a service call, waits no longer); `ns` (default '/') is the namespace the hub's
   *   handler sees.
   * @returns {Promise<string | Uint8Array>} the answer ('' when empty). Rejects with a
   *   HubError carrying the handler's code and message (12 when the hub has no handler for
   *   `name`, 13 when it threw), or MsockError ETIMEDOUT (a later answer is dropped and
   *   counted in stats.late), ECONNRESET (connection lost before the answer), ECANCELED
   *   (aborted), ECLOSED, EAGAIN (queue full while disconnected), EMSGSIZE (over
   *   maxMessageBytes), EINVAL (bad argument).
   */
  emit(name, payload = '', { timeoutMs = this.ackTimeoutMs, ns = '/', signal } = {}) {
    if (this.closed) return Promise.reject(this.closedError);
    let event;
    try {
      checkName(name, 'an event name');
      checkNamespace(ns);
      event = { name };
      putBody(event, payload, 'payload');
      if (ns !== '/' && ns !== '') event.ns = ns;
    } catch (error) {
      return Promise.reject(error);
    }
    this.stats.eventsOut++;
    // The deadline travels with the event (Event.timeoutMs), so that a hub relaying it (a
    // service call) waits no longer than this client does.
    if (timeoutMs !== Infinity) {
      event.timeoutMs = Math.min(Math.max(Math.ceil(timeoutMs), 1), MAX_TIMEOUT_MS);
    }
    return this.request(`emit "${name}"`, timeoutMs, signal, (id) => ({
      event: { ...event, ack: id } }));
  }

  /**
   * Sends an event without asking for an answer; it waits in a queue while the client is
   * not welcomed.
   * @param {string} name the event name.
   * @param {string | Uint8Array | ArrayBuffer | ArrayBufferView} [payload=''] as emit().
   * @param {{ns?: string}} [options]
   * @throws {MsockError} ECLOSED after close(); EAGAIN when sendQueueLimit messages already
   *   wait; EMSGSIZE over maxMessageBytes; EINVAL for a bad name or payload.
   */
  send(name, payload = '', { ns = '/' } = {}) {
    if (this.closed) throw this.closedError;
    checkName(name, 'an event name');
    checkNamespace(ns);
    const event = { name };
    putBody(event, payload, 'payload');
    if (ns !== '/' && ns !== '') event.ns = ns;
    this.post({ event }, null);
    this.stats.eventsOut++;
  }

  /**
   * Sets the handler of the hub's events called `name` (replacing an earlier one; null
   * removes it). It gets `(payload, event)`: the payload (a string, or a Uint8Array for
   * bytes that are not UTF-8) and {name, room, ns, wantsAck, from, timeoutMs} (`room` is the
   * room the hub sent it to, '' for a direct send; `from` the client the hub acts for, such
   * as the caller of a service this client provides, '' for the hub itself; `timeoutMs` how
   * long the sender waits for the answer, Infinity when it did not say). When the hub asked
   * for an answer, the handler's return value is it: a string, bytes, or undefined/null for
   * an empty answer; a returned promise is awaited. A handler that throws or rejects answers
   * an error: code 13 (INTERNAL) "handler threw: <message>", or the code and reason of a
   * thrown HubError.
   * @param {string} name
   * @param {((payload: string | Uint8Array, event: {name: string, room: string, ns: string,
   *   wantsAck: boolean, from: string, timeoutMs: number}) => any) | null} handler
   * @returns {RoomsClient} this, for chaining.
   */
  on(name, handler) {
    checkName(name, 'an event name');
    if (handler === null) {
      this.handlers.delete(name);
    } else if (typeof handler === 'function') {
      this.handlers.set(name, handler);
    } else {
      throw new MsockError('EINVAL', `msock ${this.describe()}: a handler must be a function`);
    }
    return this;
  }

  /**
   * Sets the handler of every event without its own (null removes it). Without one, such an
   * event that asks for an answer gets code 12 (UNIMPLEMENTED); one that does not is dropped
   * and counted in stats.unhandled.
   * @param {Function | null} handler as on().
   * @returns {RoomsClient} this, for chaining.
   */
  otherwise(handler) {
    if (handler !== null && typeof handler !== 'function') {
      throw new MsockError('EINVAL', `msock ${this.describe()}: a handler must be a function`);
    }
    this.fallback = handler;
    return this;
  }

  /** Where the client stands, for error messages. */
  state() {
    if (this.welcomed) return 'welcomed';
    if (this.isOpen) return 'connected, waiting for the welcome';
    return `not connected; last error: ${this.lastError?.message ?? 'none yet'}`;
  }

  membership(kind, room, ns, options) {
    if (ns !== null && typeof ns === 'object') return this.membership(kind, room, '/', ns);
    const { timeoutMs = this.ackTimeoutMs, signal } = options;
    try {
      checkName(room, 'a room name');
      checkNamespace(ns);
    } catch (error) {
      return Promise.reject(error);
    }
    const space = ns === '' ? '/' : ns;
    const key = `${space}\n${room}`;
    const body = { room };
    if (space !== '/') body.ns = space;
    return this.request(`${kind} "${room}"${space === '/' ? '' : ` in ${space}`}`, timeoutMs,
      signal, (id) => ({ [kind]: { id, ...body } }), (ok) => {
        // Keep the rooms to re-join in step with what the hub answered.
        if (kind === 'join' && ok) this.joined.set(key, { room, ns: space });
        else if (kind === 'join' || ok) this.joined.delete(key);
      }).then(() => undefined);
  }

  /** Sends a request built by `build(id)` and returns the promise of its answer. */
  request(what, timeoutMs, signal, build, onAnswer = null) {
    if (this.closed) return Promise.reject(this.closedError);
    const id = this.allocateId();
    const entry = { id, what, sent: false, item: null, timer: null, signal, onAbort: null,
      onAnswer, resolve: null, reject: null };
    const promise = new Promise((resolve, reject) => {
      entry.resolve = resolve;
      entry.reject = reject;
    });
    this.pendingById.set(id, entry);
    if (signal?.aborted) {
      this.expire(entry, new MsockError('ECANCELED', `msock ${this.describe()}: ${what} ` +
        'aborted', { cause: signal.reason }));
      return promise;
    }
    if (timeoutMs !== Infinity) {
      entry.timer = setTimeout(() => {
        this.expire(entry, new MsockError('ETIMEDOUT', `msock ${this.describe()}: no answer ` +
          `to ${what} within ${timeoutMs} ms (${this.state()})`));
      }, timeoutMs);
    }
    if (signal) {
      entry.onAbort = () => this.expire(entry, new MsockError('ECANCELED',
        `msock ${this.describe()}: ${what} aborted`, { cause: signal.reason }));
      signal.addEventListener('abort', entry.onAbort, { once: true });
    }
    try {
      this.post(build(id), entry);
    } catch (error) {
      this.finish(entry, error);
    }
    return promise;
  }

  allocateId() {
    for (;;) {
      const id = this.nextId;
      this.nextId = id >= MAX_REQUEST_ID ? 1 : id + 1;
      if (!this.pendingById.has(id)) return id;
    }
  }

  /** The message's bytes; throws EMSGSIZE when they are over maxMessageBytes. */
  encode(message, what) {
    const bytes = encodeMessage(message);
    if (this.maxMessageBytes > 0 && bytes.length > this.maxMessageBytes) {
      throw new MsockError('EMSGSIZE', `msock ${this.describe()}: ${what} would be a message ` +
        `of ${bytes.length} bytes, over maxMessageBytes (${this.maxMessageBytes}); the hub ` +
        'would close the connection');
    }
    return bytes;
  }

  /** Sends one message now if welcomed (and nothing waits before it), else queues it. */
  post(message, entry) {
    const bytes = this.encode(message, entry ? entry.what : `send "${message.event.name}"`);
    if (this.welcomed && this.outbox.length === 0 && this.sendPayload(bytes)) {
      if (entry) entry.sent = true;
      return;
    }
    if (this.outbox.length >= this.sendQueueLimit) {
      throw new MsockError('EAGAIN', `msock ${this.describe()}: not welcomed and ` +
        `${this.sendQueueLimit} messages already wait (${this.state()})`);
    }
    const item = { bytes, entry };
    if (entry) entry.item = item;
    this.outbox.push(item);
  }

  flush() {
    while (this.welcomed && this.outbox.length > 0) {
      const item = this.outbox[0];
      if (!this.sendPayload(item.bytes)) return;
      this.outbox.shift();
      if (item.entry) {
        item.entry.sent = true;
        item.entry.item = null;
      }
    }
  }

  /** Removes a pending request and settles it with `error`, or with `value` if none. */
  finish(entry, error, value) {
    this.pendingById.delete(entry.id);
    if (entry.timer !== null) clearTimeout(entry.timer);
    if (entry.onAbort) entry.signal.removeEventListener('abort', entry.onAbort);
    if (entry.item) {
      // Never sent: it must not go out after its caller gave up.
      const index = this.outbox.indexOf(entry.item);
      if (index >= 0) this.outbox.splice(index, 1);
      entry.item = null;
    }
    if (error) entry.reject(error);
    else entry.resolve(value);
  }

  /** Gives up on a request; an answer that still comes counts as late. */
  expire(entry, error) {
    if (!this.pendingById.has(entry.id)) return;
    if (entry.sent) {
      this.expired.add(entry.id);
      if (this.expired.size > LATE_IDS_KEPT) {
        this.expired.delete(this.expired.values().next().value);
      }
    }
    this.finish(entry, error);
  }

  onOpen() {
    const hello = {};
    if (this.wantId) hello.wantId = this.wantId;
    if (this.token) hello.token = this.token;
    if (this.id) hello.previousId = this.id;
    this.sendPayload(encodeMessage({ hello }));
  }

  onPayload(bytes) {
    let message;
    try {
      message = JSON.parse(decodeText(bytes));
    } catch {
      this.drop('malformed', bytes.length);
      return;
    }
    const kind = message !== null && typeof message === 'object' ?
      ['welcome', 'refused', 'ack', 'event'].find((key) => message[key] !== undefined) : null;
    const body = kind ? message[kind] : null;
    if (body === null || typeof body !== 'object') {
      this.drop('malformed', bytes.length);
    } else if (kind === 'refused') {
      this.handleRefused(body);
    } else if (kind === 'welcome') {
      if (this.welcomed) this.drop('malformed', bytes.length);
      else this.handleWelcome(body);
    } else if (!this.welcomed) {
      this.drop('malformed', bytes.length);
    } else if (kind === 'ack') {
      this.handleAck(body, bytes.length);
    } else {
      this.handleEvent(body, bytes.length);
    }
  }

  handleWelcome(welcome) {
    const previousId = this.id;
    const first = !this.everWelcomed;
    this.id = String(welcome.id ?? '');
    this.welcomed = true;
    this.everWelcomed = true;
    this.stats.welcomes++;
    const reconnected = welcome.reconnected === true;
    // What waited for the welcome goes out after what onreconnected sends (its re-joins).
    const waiting = this.outbox;
    this.outbox = [];
    this.dispatchEvent(new SpEvent('welcome', { id: this.id, reconnected, first }));
    if (!first) {
      this.stats.reconnects++;
      const info = { id: this.id, previousId, sameId: reconnected, rooms: this.rooms };
      this.dispatchEvent(new SpEvent('reconnected', info));
      if (this.onreconnected) {
        new Promise((resolve) => resolve(this.onreconnected(info))).catch((error) =>
          this.dispatchEvent(new SpEvent('handlererror', { name: 'onreconnected', error })));
      }
    }
    if (this.closed) return;  // a listener or onreconnected closed the client
    this.outbox = waiting.concat(this.outbox);
    this.flush();
    for (const waiter of this.connectWaiters) {
      if (waiter.timer !== null) clearTimeout(waiter.timer);
      waiter.resolve(this.id);
    }
    this.connectWaiters.clear();
  }

  handleRefused(refused) {
    const error = new HubError(Number(refused.code ?? 0), refused.reason ?? '',
      { context: `msock ${this.describe()}: the hub refused this client` });
    this.refusal = error;
    this.lastError = error;
    this.dispatchEvent(new SpEvent('refused', { error }));
    // The hub hangs up by itself a little later; nothing more is to be said on this one.
    this.shutdown(new MsockError('ECLOSED', `msock ${this.describe()}: closed: ${error.message}`,
      { cause: error }));
    this.close();
  }

  handleAck(ack, size) {
    const id = Number(ack.id ?? 0);
    const entry = this.pendingById.get(id);
    if (!entry || !entry.sent) {
      this.drop(this.expired.delete(id) ? 'late' : 'unknown', size);
      return;
    }
    const code = Number(ack.code ?? 0);
    if (code !== 0) {
      if (entry.onAnswer) entry.onAnswer(false);
      this.finish(entry, new HubError(code, ack.error ?? '',
        { context: `msock ${this.describe()}: ${entry.what}` }));
      return;
    }
    let value;
    try {
      value = takeBody(ack);
    } catch (cause) {
      this.drop('malformed', size);
      this.finish(entry, new MsockError('EINVAL', `msock ${this.describe()}: the answer to ` +
        `${entry.what} has a bad payload: ${cause.message}`, { cause }));
      return;
    }
    if (entry.onAnswer) entry.onAnswer(true);
    this.finish(entry, null, value);
  }

  handleEvent(event, size) {
    const name = String(event.name ?? '');
    const ackId = Number(event.ack ?? 0);
    let payload;
    try {
      payload = takeBody(event);
    } catch {
      this.drop('malformed', size);
      return;
    }
    this.stats.eventsIn++;
    const handler = this.handlers.get(name) ?? this.fallback;
    const ws = this.ws;
    if (!handler) {
      if (ackId) {
        this.answer(ws, ackId, null, new HubError(Status.UNIMPLEMENTED,
          `no handler for event "${name}"`));
      } else {
        this.drop('unhandled', size);
      }
      return;
    }
    const timeoutMs = Number(event.timeoutMs ?? 0);
    const info = { name, room: String(event.room ?? ''), ns: event.ns || '/',
      wantsAck: ackId !== 0, from: String(event.from ?? ''),
      timeoutMs: ackId !== 0 && timeoutMs > 0 ? timeoutMs : Infinity };
    new Promise((resolve) => resolve(handler(payload, info))).then(
      (value) => {
        if (ackId) this.answer(ws, ackId, value, null);
      },
      (error) => {
        this.stats.handlerErrors++;
        this.dispatchEvent(new SpEvent('handlererror', { name, error }));
        if (ackId) this.answer(ws, ackId, null, error);
      });
  }

  /** Answers the hub's event `id` received on `ws`, if that connection is still the one. */
  answer(ws, id, value, error) {
    if (ws !== this.ws || !this.welcomed) {
      this.stats.acksDropped++;
      return;
    }
    const ack = { id };
    if (error) {
      ack.code = error instanceof HubError ? error.code : Status.INTERNAL;
      ack.error = error instanceof HubError ? error.reason :
        `handler threw: ${error?.message ?? String(error)}`;
    } else {
      try {
        putBody(ack, value, 'an answer');
      } catch (cause) {
        ack.code = Status.INTERNAL;
        ack.error = `handler returned ${typeof value}; answer a string, bytes or nothing`;
        this.stats.handlerErrors++;
        this.dispatchEvent(new SpEvent('handlererror', { name: '', error: cause }));
      }
    }
    let bytes;
    try {
      bytes = this.encode({ ack }, `the answer to event ${id}`);
    } catch (error) {
      bytes = encodeMessage({ ack: { id, code: Status.RESOURCE_EXHAUSTED,
        error: error.message } });
    }
    this.sendPayload(bytes);
  }

  /** Runs when a websocket closed (lost, or a dial failed) and the client will go on. */
  connectionLost() {
    this.welcomed = false;
    for (const entry of [...this.pendingById.values()]) {
      if (!entry.sent) continue;
      this.expire(entry, new MsockError('ECONNRESET', `msock ${this.describe()}: connection ` +
        `lost before the answer to ${entry.what}`, { cause: this.lastError }));
    }
  }

  onShutdown(error) {
    this.welcomed = false;
    for (const entry of [...this.pendingById.values()]) this.finish(entry, error);
    this.outbox = [];
    for (const waiter of this.connectWaiters) {
      if (waiter.timer !== null) clearTimeout(waiter.timer);
      waiter.reject(this.refusal ?? error);
    }
    this.connectWaiters.clear();
  }
}
