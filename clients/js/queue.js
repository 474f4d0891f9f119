// clients/js/queue.js: the browser side of msock's durable queue (protocols/queue/WIRE.md),
// the twin of C++ msock::QueueClient: a node of a user that registers, logs in, posts messages
// that the server keeps until each recipient node acknowledges them, and receives its own
// queue's entries. Requests are rooms events `_q/...` with an ack, payloads in protobuf's JSON
// mapping (bytes in base64, 64-bit integers as decimal strings). Exported by msock.js.

import { SpEvent } from './socket.js';
import { Inbox, MsockError, decodeText, fromBase64, toBase64, toBytes } from './util.js';

const DELIVER_EVENT = '_q/deliver';
const KICKED_EVENT = '_q/kicked';
const MAX_UINT32 = 0xffffffff;

/** A field of a JSON-mapped message, by its JSON name or its proto name. */
function field(message, json, proto = json) {
  return message[json] ?? message[proto];
}

/** A uint64 / int64 of the JSON mapping (a decimal string, or a number) as a decimal string. */
function decimal(value) {
  if (value === undefined || value === null || value === '') return '0';
  const text = String(value);
  if (!/^-?\d+$/.test(text)) {
    throw new MsockError('EINVAL', `msock queue: ${JSON.stringify(value)} is not an integer`);
  }
  return text;
}

/** A message id given by the caller (string, number or bigint) as the wire's decimal string. */
function messageId(id) {
  const text = typeof id === 'bigint' || typeof id === 'number' ? id.toString() : id;
  if (typeof text !== 'string' || !/^\d+$/.test(text) || text.length > 20) {
    throw new MsockError('EINVAL', 'msock queue: a message id is a decimal string (or a ' +
      `number or bigint) of a uint64, got ${typeof id === 'bigint' ? id : JSON.stringify(id)}`);
  }
  return text;
}

/** A duration in ms given by the caller, as the wire's uint64 decimal string. */
function millis(ms, what) {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new MsockError('EINVAL', `msock queue: ${what} must be a number of ms >= 0, got ` +
      `${JSON.stringify(ms) ?? String(ms)}`);
  }
  return String(Math.ceil(ms));
}

function checkName(name, what) {
  if (typeof name !== 'string' || name === '') {
    throw new MsockError('EINVAL', `msock queue: ${what} must be a non-empty string, got ` +
      `${JSON.stringify(name) ?? String(name)}`);
  }
}

function checkNames(names, what) {
  if (!Array.isArray(names)) {
    throw new MsockError('EINVAL', `msock queue: ${what} must be an array of strings`);
  }
  names.forEach((name) => checkName(name, `each of ${what}`));
  return [...names];
}

/** The JSON object of an answer or event payload ('' reads as {}: every field default). */
function parse(payload, what) {
  const text = typeof payload === 'string' ? payload : decodeText(payload);
  let value;
  try {
    value = text === '' ? {} : JSON.parse(text);
  } catch (cause) {
    throw new MsockError('EINVAL', `msock queue: ${what} is not JSON: ${cause.message}`,
      { cause });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new MsockError('EINVAL', `msock queue: ${what} is not a JSON object`);
  }
  return value;
}

/** A base64 bytes field (absent: empty). */
function bytesField(message, name) {
  const text = message[name];
  if (text === undefined || text === null) return new Uint8Array(0);
  if (typeof text !== 'string') {
    throw new MsockError('EINVAL', `msock queue: field ${name} is not base64 text`);
  }
  return fromBase64(text);
}

function strings(value) {
  return Array.isArray(value) ? value.map(String) : [];
}

/**
 * One queue entry as this node receives it (a Deliver of the wire), frozen. `id` is the
 * server's message id as a decimal string (a uint64: compare and store it as text); `body`
 * and `meta` are bytes, `text` and `metaText` the same decoded as UTF-8.
 * @typedef {{id: string, fromUser: string, fromNode: string, body: Uint8Array, text: string,
 *   meta: Uint8Array, metaText: string, to: string[], attempt: number, singleNode: boolean,
 *   postedMs: number, expiresMs: number, kind: string, reason?: string}} QueueMessage
 */

/** @returns {QueueMessage} */
function toMessage(d) {
  const body = bytesField(d, 'body');
  const meta = bytesField(d, 'meta');
  return Object.freeze({
    id: decimal(d.id),
    fromUser: String(field(d, 'fromUser', 'from_user') ?? ''),
    fromNode: String(field(d, 'fromNode', 'from_node') ?? ''),
    body, text: decodeText(body), meta, metaText: decodeText(meta),
    to: strings(d.to),
    attempt: Number(d.attempt ?? 1) || 1,
    singleNode: field(d, 'singleNode', 'single_node') === true,
    postedMs: Number(decimal(field(d, 'postedMs', 'posted_ms'))),
    expiresMs: Number(decimal(field(d, 'expiresMs', 'expires_ms'))),
    kind: String(d.kind ?? ''),
  });
}

/**
 * A node's connection to an msock::QueueServer, on a RoomsClient (new QueueClient(rooms)):
 * the durable queue of protocols/queue/WIRE.md.
 *
 * - register(user, node) creates a user with its first node (or adds a node, with the secret
 *   of one it has: proofNode / proofSecret) and resolves with the node's secret; login(user,
 *   node, secret) binds this connection to that node, and the server starts delivering its
 *   queue: up to `window` entries at once, one more per entry acknowledged.
 * - post(to, body) resolves once the message is durable on the server; to: users, "@alias"
 *   and "#list". A retry with the same clientId is stored once (`duplicate: true`).
 * - Entries arrive in order to onMessage()'s callback, or wait for receive(). ack(id) resolves
 *   once the removal is durable: that entry never comes to this node again. Until then it
 *   comes again after the server's ack timeout, after a reconnect and after a new login
 *   (`attempt` > 1): delivery is at least once, so deduplicate by `id`.
 * - After the RoomsClient reconnects the client logs in again by itself with the last login's
 *   arguments (a `loggedin` event with `again: true`, or a `loginerror` event); a `_q/kicked`
 *   from the server (another connection logged in as this node) ends that (a `kicked` event).
 *
 * Errors: the server's refusals reject with the RoomsClient's HubError (its numeric code and
 * reason: 7 PERMISSION_DENIED wrong secret or unknown node, 6 ALREADY_EXISTS, 9
 * FAILED_PRECONDITION not logged in, 3 INVALID_ARGUMENT, 8 RESOURCE_EXHAUSTED, 14
 * UNAVAILABLE); local failures with MsockError (EINVAL bad argument or answer, ETIMEDOUT,
 * ECONNRESET: the outcome is unknown, retry a post with the same clientId, an ack as is).
 *
 * Events (addEventListener): `loggedin` {pending, again}, `loginerror` {error}, `kicked`
 * {reason}, `drop` {reason: 'overflow' | 'malformed'}.
 *
 * @example
 * const queue = new QueueClient(rooms, { window: 8 });
 * await rooms.connect({ timeoutMs: 5000 });
 * await queue.login('web', 'laptop', secret);
 * queue.onMessage(async (m) => { show(m.fromUser, m.text); await queue.ack(m.id); });
 * const { id } = await queue.post(['bob', '#team'], 'hello', { clientId: crypto.randomUUID() });
 */
export class QueueClient extends EventTarget {
  /**
   * @param {import('./rooms.js').RoomsClient} rooms
   * @param {{window?: number, maxBuffered?: number}} [options] `window`: default deliveries
   *   in flight asked for at login (default 1; the server caps it); `maxBuffered`: received
   *   entries kept for receive() (default 1024; past it the oldest is dropped, it comes
   *   again after the server's ack timeout).
   */
  constructor(rooms, { window = 1, maxBuffered = 1024 } = {}) {
    super();
    this.rooms = rooms;
    this.window = window;
    /** The last login's {user, node, secret, window}; null when not logged in. */
    this.credentials = null;
    this.inbox = new Inbox(maxBuffered, () => `queue of ${this.describe()}`,
      () => this.drop('overflow'));
    this.stats = { delivered: 0, duplicatesSkipped: 0, logins: 0, kicked: 0, malformed: 0 };
    rooms.on(DELIVER_EVENT, (payload) => this.onDeliver(payload));
    rooms.on(KICKED_EVENT, (payload) => this.onKicked(payload));
    this.onReconnected = () => {
      if (this.credentials) this.sendLogin(this.credentials, true).catch(() => {});
    };
    rooms.addEventListener('reconnected', this.onReconnected);
  }

  /** Which node this is, for messages. */
  describe() {
    return this.credentials ? `${this.credentials.node} of ${this.credentials.user}` :
      'a node not logged in';
  }

  /**
   * Registers `user` with its first node `node`, or adds `node` to an existing user (then
   * `proofNode` / `proofSecret` name one of its nodes, unless this connection is logged in as
   * that user).
   * @param {string} user
   * @param {string} node
   * @param {{aliases?: string[], proofNode?: string, proofSecret?: string,
   *   timeoutMs?: number}} [options] `aliases`: a new user's (see setAliases).
   * @returns {Promise<string>} the node's secret (give it to login). Rejects with a HubError:
   *   6 ALREADY_EXISTS, 7 PERMISSION_DENIED (bad proof, the server's hook), 3 (names), 8.
   */
  async register(user, node, { aliases = [], proofNode = '', proofSecret = '',
    timeoutMs } = {}) {
    checkName(user, 'a user');
    checkName(node, 'a node');
    const request = { user, node };
    const accepted = checkNames(aliases, 'aliases');
    if (accepted.length > 0) request.aliases = accepted;
    if (proofNode) request.proofNode = String(proofNode);
    if (proofSecret) request.proofSecret = String(proofSecret);
    const answer = await this.request('_q/register', request, timeoutMs);
    return String(answer.secret ?? '');
  }

  /**
   * Logs this connection in as `node` of `user`; deliveries start. The arguments are kept to
   * log in again after a reconnect.
   * @param {string} user
   * @param {string} node
   * @param {string} secret from register().
   * @param {{window?: number, timeoutMs?: number}} [options] `window`: deliveries in flight
   *   (default the constructor's).
   * @returns {Promise<{pending: number}>} entries waiting in the node's queue. Rejects with a
   *   HubError 7 PERMISSION_DENIED (unknown user or node, wrong secret).
   */
  async login(user, node, secret, { window = this.window, timeoutMs } = {}) {
    checkName(user, 'a user');
    checkName(node, 'a node');
    if (typeof secret !== 'string') {
      throw new MsockError('EINVAL', 'msock queue: a secret is a string');
    }
    if (!Number.isInteger(window) || window < 1 || window > MAX_UINT32) {
      throw new MsockError('EINVAL', `msock queue: window must be an integer >= 1, got ${window}`);
    }
    return this.sendLogin({ user, node, secret, window }, false, timeoutMs);
  }

  async sendLogin(credentials, again, timeoutMs) {
    try {
      const answer = await this.request('_q/login', credentials, timeoutMs);
      this.credentials = credentials;
      this.stats.logins++;
      const pending = Number(decimal(answer.pending));
      this.dispatchEvent(new SpEvent('loggedin', { pending, again }));
      return { pending };
    } catch (error) {
      if (again) this.dispatchEvent(new SpEvent('loginerror', { error }));
      throw error;
    }
  }

  /**
   * Posts one message; resolves once it is durable.
   * @param {string[]} to users, "@alias" and "#list".
   * @param {string | Uint8Array | ArrayBuffer | ArrayBufferView} body a string goes as UTF-8.
   * @param {{clientId?: string, meta?: string | Uint8Array | ArrayBuffer | ArrayBufferView,
   *   singleNode?: boolean, noSelf?: boolean, ttlMs?: number, timeoutMs?: number}} [options]
   *   `clientId`: an idempotency key (a retry is stored once); `meta`: opaque, passed to the
   *   recipients; `singleNode`: one node of each user; `noSelf`: no copy to this user's other
   *   nodes; `ttlMs`: 0 = the server's maximum.
   * @returns {Promise<{id: string, duplicate: boolean, errors: string[], nodes: number}>}
   *   `errors`: recipients skipped, "name: reason"; `nodes`: queue entries written. Rejects
   *   with a HubError 3 (no recipient, bad address), 8 (bounds), 9 (not logged in), 14.
   */
  async post(to, body, { clientId = '', meta, singleNode = false, noSelf = false, ttlMs = 0,
    timeoutMs } = {}) {
    const request = { to: checkNames(to, 'to') };
    const bytes = toBytes(body, 'body');
    if (bytes.length > 0) request.body = toBase64(bytes);
    if (meta !== undefined && meta !== null) {
      const metaBytes = toBytes(meta, 'meta');
      if (metaBytes.length > 0) request.meta = toBase64(metaBytes);
    }
    if (typeof clientId !== 'string') {
      throw new MsockError('EINVAL', 'msock queue: clientId must be a string');
    }
    if (clientId) request.clientId = clientId;
    if (singleNode) request.singleNode = true;
    if (noSelf) request.noSelf = true;
    if (ttlMs !== 0) request.ttlMs = millis(ttlMs, 'ttlMs');
    const answer = await this.request('_q/post', request, timeoutMs);
    return { id: decimal(answer.id), duplicate: answer.duplicate === true,
      errors: strings(answer.errors), nodes: Number(answer.nodes ?? 0) };
  }

  /**
   * Sets (or with null removes) the callback of every delivered entry; while one is set
   * nothing waits for receive() (entries already waiting go to it first).
   * @param {((message: QueueMessage) => void) | null} callback
   * @returns {QueueClient} this.
   */
  onMessage(callback) {
    if (callback !== null && typeof callback !== 'function') {
      throw new MsockError('EINVAL', 'msock queue: onMessage takes a function or null');
    }
    this.inbox.onmessage = null;
    if (callback) {
      for (const waiting of this.inbox.queue.splice(0)) callback(waiting);
    }
    this.inbox.onmessage = callback;
    return this;
  }

  /**
   * The next delivered entry.
   * @param {number} [timeoutMs=Infinity]
   * @returns {Promise<QueueMessage>} rejects with ETIMEDOUT when none came in time, ECLOSED
   *   after close().
   */
  receive(timeoutMs = Infinity) {
    return this.inbox.recv(timeoutMs);
  }

  /**
   * Done with entry `id`: resolves once the removal is durable; it never comes to this node
   * again. Acking an unknown or already acked id succeeds (removed 0).
   * @param {string | number | bigint} id
   * @param {{timeoutMs?: number}} [options]
   * @returns {Promise<number>} the entries removed (0 or 1).
   */
  ack(id, { timeoutMs } = {}) {
    return this.settle(id, {}, timeoutMs);
  }

  /**
   * Asks for entry `id` again after `delayMs` (counts as an attempt).
   * @param {string | number | bigint} id
   * @param {number} [delayMs=0]
   * @param {{timeoutMs?: number}} [options]
   * @returns {Promise<number>}
   */
  nack(id, delayMs = 0, { timeoutMs } = {}) {
    return this.settle(id, { type: 'nack', delayMs: millis(delayMs, 'delayMs') }, timeoutMs);
  }

  /**
   * Never deliver entry `id` again: it goes to the user's dead letters.
   * @param {string | number | bigint} id
   * @param {{timeoutMs?: number}} [options]
   * @returns {Promise<number>}
   */
  term(id, { timeoutMs } = {}) {
    return this.settle(id, { type: 'term' }, timeoutMs);
  }

  async settle(id, fields, timeoutMs) {
    const answer = await this.request('_q/ack', { ids: [messageId(id)], ...fields }, timeoutMs);
    return Number(answer.removed ?? 0);
  }

  /**
   * Replaces the logged-in user's aliases.
   * @param {string[]} aliases
   * @param {{timeoutMs?: number}} [options]
   * @returns {Promise<string[]>} the ones accepted (the others belong to someone else).
   */
  async setAliases(aliases, { timeoutMs } = {}) {
    const answer = await this.request('_q/aliases',
      { aliases: checkNames(aliases, 'aliases') }, timeoutMs);
    return strings(answer.aliases);
  }

  /**
   * Adds `user` to distribution list `list` (created if missing; else this user must be a
   * member). Members get a "list" entry for each change.
   * @returns {Promise<string[]>} the members after the change.
   */
  listAdd(list, user, { timeoutMs } = {}) {
    return this.editList(list, 'add', user, timeoutMs);
  }

  /** Removes `user` from `list` (a list left empty is deleted). @returns {Promise<string[]>} */
  listRemove(list, user, { timeoutMs } = {}) {
    return this.editList(list, 'remove', user, timeoutMs);
  }

  /** The members of `list`. @returns {Promise<string[]>} */
  listMembers(list, { timeoutMs } = {}) {
    return this.editList(list, 'get', '', timeoutMs);
  }

  async editList(list, op, member, timeoutMs) {
    checkName(list, 'a list');
    if (op !== 'get') checkName(member, 'a member');
    const request = { list, op };
    if (member) request.member = member;
    const answer = await this.request('_q/list', request, timeoutMs);
    return strings(answer.members);
  }

  /**
   * The user's dead letters, each with its `reason`.
   * @param {{purge?: boolean, limit?: number, timeoutMs?: number}} [options] `purge`: and
   *   removes them.
   * @returns {Promise<QueueMessage[]>}
   */
  async deadLetters({ purge = false, limit = 0, timeoutMs } = {}) {
    const answer = await this.query('_q/dead', purge, limit, timeoutMs);
    const reasons = strings(answer.reasons);
    return (answer.messages ?? []).map((m, i) =>
      Object.freeze({ ...toMessage(m), reason: reasons[i] ?? '' }));
  }

  /**
   * The ids waiting in this node's queue, oldest first (nothing is consumed).
   * @param {{limit?: number, timeoutMs?: number}} [options]
   * @returns {Promise<string[]>} decimal ids.
   */
  async pending({ limit = 0, timeoutMs } = {}) {
    const answer = await this.query('_q/pending', false, limit, timeoutMs);
    return (answer.messages ?? []).map((m) => decimal(m.id));
  }

  query(name, purge, limit, timeoutMs) {
    const request = {};
    if (purge) request.purge = true;
    if (limit) request.limit = limit;
    return this.request(name, request, timeoutMs);
  }

  /**
   * Stops handling the RoomsClient's queue events and reconnects; receive() calls reject with
   * ECLOSED. The RoomsClient stays open (close it too when done).
   */
  close() {
    this.rooms.on(DELIVER_EVENT, null);
    this.rooms.on(KICKED_EVENT, null);
    this.rooms.removeEventListener('reconnected', this.onReconnected);
    this.credentials = null;
    this.inbox.close(new MsockError('ECLOSED', 'msock queue: closed'));
  }

  /** Emits `name` with `request` as JSON and resolves with the answer's JSON object. */
  async request(name, request, timeoutMs) {
    const answer = await this.rooms.emit(name, JSON.stringify(request), { timeoutMs });
    return parse(answer, `the answer to ${name}`);
  }

  onDeliver(payload) {
    let message;
    try {
      message = toMessage(parse(payload, 'a delivery'));
    } catch {
      this.stats.malformed++;
      this.drop('malformed');
      return;
    }
    // The same entry again while its first copy still waits for receive() (a redelivery
    // after a reconnect): one copy is enough; acking its id settles both.
    if (this.inbox.queue.some((m) => m.id === message.id)) {
      this.stats.duplicatesSkipped++;
      return;
    }
    this.stats.delivered++;
    this.inbox.push(message);
  }

  onKicked(payload) {
    let reason = '';
    try {
      reason = String(parse(payload, 'a kick').reason ?? '');
    } catch {
      reason = '';
    }
    // Another connection is this node now: logging in again would take it back.
    this.credentials = null;
    this.stats.kicked++;
    this.dispatchEvent(new SpEvent('kicked', { reason }));
  }

  drop(reason) {
    this.dispatchEvent(new SpEvent('drop', { reason }));
  }
}
