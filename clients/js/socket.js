// clients/js/socket.js: the websocket side of every msock browser socket: dial with the SP
// subprotocol, binary frames, reconnect with back-off, clean close, and errors that say what
// went wrong. Roles (msock.js) extend SpSocket and only add their header words and routing.

import { MsockError, strictText, toBytes } from './util.js';

/** Close codes a peer may send, with what they usually mean for an SP peer. */
const CLOSE_MEANINGS = {
  1000: 'normal closure',
  1001: 'going away',
  1002: 'protocol error',
  1003: 'unsupported data (NNG sends this for a text frame unless its text option is on)',
  1005: 'no status code',
  1006: 'closed without a close frame (NNG and nanomsg often just drop the TCP connection)',
  1007: 'invalid payload (nanomsg sends this for a text frame that is not valid UTF-8)',
  1008: 'policy violation',
  1009: 'message too big for the peer',
  1011: 'server error',
};

function describeClose(code, reason) {
  const meaning = CLOSE_MEANINGS[code] ?? 'application-defined code';
  return `code ${code}, ${meaning}${reason ? `, reason "${reason}"` : ''}`;
}

function normalizeReconnect(value) {
  const defaults = { initialMs: 100, maxMs: 10000, factor: 2, jitter: 0.2,
    maxAttempts: Infinity, stableMs: 1000 };
  if (value === false) return null;
  if (value === undefined || value === true) return defaults;
  if (typeof value !== 'object') {
    throw new MsockError('EINVAL', 'msock: option reconnect must be true, false or an object');
  }
  const out = { ...defaults, ...value };
  for (const key of Object.keys(defaults)) {
    if (typeof out[key] !== 'number' || !(out[key] >= 0)) {
      throw new MsockError('EINVAL', `msock: reconnect.${key} must be a number >= 0`);
    }
  }
  return out;
}

/** Event given to listeners of an SpSocket; its extra fields are listed on SpSocket. */
export class SpEvent extends Event {
  /**
   * @param {string} type 'open', 'close', 'error' or 'drop'.
   * @param {object} fields copied onto the event.
   */
  constructor(type, fields) {
    super(type);
    Object.assign(this, fields);
  }
}

/**
 * Base of every msock browser socket: one websocket at a time to `url`, asking for the
 * peer's SP subprotocol, redialled with exponential back-off when it closes.
 *
 * Events (addEventListener):
 * - `open` {url, protocol, attempt};
 * - `close` {code, reason, wasOpen, reconnectInMs (null when it will not reconnect), error}
 *   when a websocket closes other than through close();
 * - `error` {error}: an MsockError, once per failed or lost connection;
 * - `drop` {reason, size}: a received message was ignored ('late', 'unknown', 'malformed',
 *   'ttl', 'too-large', 'overflow'; sub's filtered messages only count in stats.filtered).
 * Counters are in `stats`. Not meant to be constructed directly: use ReqSocket, SubSocket,
 * PairSocket or RoomsClient.
 */
export class SpSocket extends EventTarget {
  /**
   * @param {string | URL} url `ws://host:port/path` or `wss://...`.
   * @param {string} role this socket's role, for messages ('req', 'sub', 'pair0', 'pair1',
   *   'hub-client').
   * @param {string} peerProtocol the subprotocol to ask for: the peer's, e.g.
   *   'rep.sp.nanomsg.org' for a req.
   * @param {object} [options] see the role classes; the shared ones are `reconnect`
   *   (false, or {initialMs=100, maxMs=10000, factor=2, jitter=0.2, maxAttempts=Infinity,
   *   stableMs=1000}), `textFrames` (false), `maxRecvBytes` (0 = no limit) and `WebSocket`
   *   (the constructor to use, default globalThis.WebSocket).
   */
  constructor(url, role, peerProtocol, options = {}) {
    super();
    const text = String(url);
    if (!/^wss?:\/\//i.test(text)) {
      throw new MsockError('EINVAL', `msock ${role}: URL must start with ws:// or wss://, ` +
        `got "${text}"`);
    }
    /** @type {string} */
    this.url = text;
    /** @type {string} */
    this.role = role;
    /** The subprotocol this socket asks for (the peer's SP name). @type {string} */
    this.protocol = peerProtocol;
    this.reconnectPolicy = normalizeReconnect(options.reconnect);
    this.textFrames = Boolean(options.textFrames);
    this.maxRecvBytes = options.maxRecvBytes ?? 0;
    this.WebSocketImpl = options.WebSocket ?? globalThis.WebSocket;
    if (typeof this.WebSocketImpl !== 'function') {
      throw new MsockError('EINVAL', 'msock: no WebSocket in this environment; ' +
        'pass one as options.WebSocket');
    }
    /** Counters, for tests and dashboards. */
    this.stats = { opens: 0, failedDials: 0, sent: 0, received: 0, resent: 0, late: 0,
      unknown: 0, malformed: 0, filtered: 0, ttl: 0, tooLarge: 0, overflow: 0 };
    /** The error of the last failed or lost connection, or null. @type {MsockError|null} */
    this.lastError = null;
    this.ws = null;
    this.isOpen = false;
    this.closed = false;
    this.closedError = null;
    this.attempt = 0;
    this.openedAt = 0;
    this.retryTimer = null;
    this.dialError = null;
    this.openWaiters = new Set();
    this.closeDone = null;
    queueMicrotask(() => this.dial());
  }

  /** A short name for messages: "req ws://127.0.0.1:5555/rep". */
  describe() {
    return `${this.role} ${this.url}`;
  }

  /**
   * Resolves when the socket is open (at once if it is). Rejects with ECLOSED when the
   * socket is closed or gives up reconnecting, and with ETIMEDOUT after `timeoutMs`; both
   * carry the last connection error in their message.
   * @param {{timeoutMs?: number}} [options]
   * @returns {Promise<void>}
   */
  whenOpen({ timeoutMs = Infinity } = {}) {
    if (this.isOpen) return Promise.resolve();
    if (this.closed) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject, timer: null };
      if (timeoutMs !== Infinity) {
        waiter.timer = setTimeout(() => {
          this.openWaiters.delete(waiter);
          const last = this.lastError ? `; last error: ${this.lastError.message}` : '';
          reject(new MsockError('ETIMEDOUT',
            `msock ${this.describe()}: not open after ${timeoutMs} ms${last}`));
        }, timeoutMs);
      }
      this.openWaiters.add(waiter);
    });
  }

  /**
   * Closes the socket for good: no more reconnects, pending operations fail with ECLOSED,
   * an open websocket gets a normal close frame (1000). Idempotent.
   * @returns {Promise<void>} resolves when the websocket has closed (at most ~1 s).
   */
  close() {
    if (this.closeDone) return this.closeDone;
    const error = new MsockError('ECLOSED', `msock ${this.describe()}: socket closed`);
    const ws = this.ws;
    this.shutdown(error);
    this.closeDone = new Promise((resolve) => {
      if (!ws || ws.readyState === 3) {
        resolve();
        return;
      }
      // Browsers end the closing handshake themselves; the timer only bounds the wait.
      const timer = setTimeout(resolve, 1000);
      ws.addEventListener('close', () => {
        clearTimeout(timer);
        resolve();
      });
      ws.close(1000, 'msock: close()');
    });
    return this.closeDone;
  }

  /** @protected Sends one SP message (header words already in front). False if not open. */
  sendPayload(bytes) {
    if (!this.isOpen) return false;
    if (this.textFrames) {
      const text = strictText(bytes);
      if (text === null) {
        throw new MsockError('EINVAL', `msock ${this.describe()}: textFrames is on but this ` +
          'message is not valid UTF-8; send it as a binary frame instead');
      }
      this.ws.send(text);
    } else {
      this.ws.send(bytes);
    }
    this.stats.sent++;
    return true;
  }

  /** @protected Counts and reports a received message the role ignored. */
  drop(reason, size) {
    const counter = { 'too-large': 'tooLarge' }[reason] ?? reason;
    if (counter in this.stats) this.stats[counter]++;
    this.dispatchEvent(new SpEvent('drop', { reason, size }));
  }

  /** @protected Role hook: one received SP message, header words included. */
  onPayload(bytes) {}

  /** @protected Role hook: a websocket has just opened. */
  onOpen() {}

  /** @protected Role hook: the socket is closed for good with `error` (ECLOSED). */
  onShutdown(error) {}

  dial() {
    if (this.closed) return;
    this.retryTimer = null;
    this.dialError = null;
    let ws;
    try {
      ws = new this.WebSocketImpl(this.url, this.protocol);
    } catch (cause) {
      // A malformed URL or a forbidden port: retrying cannot help.
      const error = new MsockError('EINVAL',
        `msock ${this.describe()}: cannot create a WebSocket: ${cause.message}`, { cause });
      this.lastError = error;
      this.dispatchEvent(new SpEvent('error', { error }));
      this.shutdown(new MsockError('ECLOSED', error.message, { cause: error }));
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.addEventListener('open', () => this.handleOpen(ws));
    ws.addEventListener('message', (event) => this.handleMessage(ws, event));
    ws.addEventListener('close', (event) => this.handleClose(ws, event));
    // 'error' carries no detail in browsers; 'close' follows it and says more.
  }

  handleOpen(ws) {
    if (ws !== this.ws || this.closed) return;
    if (ws.protocol !== this.protocol) {
      // Browsers already refuse a mismatching answer; this guards other WebSocket classes.
      this.dialError = new MsockError('ECONNREFUSED', `msock ${this.describe()}: peer ` +
        `answered subprotocol "${ws.protocol}", expected "${this.protocol}"`);
      ws.close(4000, 'msock: wrong subprotocol');
      return;
    }
    this.isOpen = true;
    this.openedAt = Date.now();
    this.stats.opens++;
    this.dispatchEvent(new SpEvent('open', { url: this.url, protocol: ws.protocol,
      attempt: this.attempt }));
    for (const waiter of this.openWaiters) {
      if (waiter.timer !== null) clearTimeout(waiter.timer);
      waiter.resolve();
    }
    this.openWaiters.clear();
    this.onOpen();
  }

  handleMessage(ws, event) {
    if (ws !== this.ws || this.closed) return;
    const bytes = toBytes(event.data);
    if (this.maxRecvBytes > 0 && bytes.length > this.maxRecvBytes) {
      this.drop('too-large', bytes.length);
      return;
    }
    this.stats.received++;
    this.onPayload(bytes);
  }

  handleClose(ws, event) {
    if (ws !== this.ws) return;
    const wasOpen = this.isOpen;
    this.isOpen = false;
    this.ws = null;
    if (this.closed) return;
    let error;
    if (wasOpen) {
      error = new MsockError('ECONNRESET', `msock ${this.describe()}: connection lost ` +
        `(${describeClose(event.code, event.reason)})`);
      if (Date.now() - this.openedAt >= (this.reconnectPolicy?.stableMs ?? 0)) {
        this.attempt = 0;
      }
    } else {
      this.stats.failedDials++;
      error = this.dialError ?? new MsockError('ECONNREFUSED',
        `msock ${this.describe()}: websocket closed before the handshake finished ` +
        `(code ${event.code}). Either nothing listens there, or ` +
        `the server refused the upgrade: a wrong path (404) or a server that is not a ` +
        `${this.protocol.split('.')[0]} socket (400, we asked for subprotocol ` +
        `"${this.protocol}") look the same from a browser; its console shows the status.`);
    }
    this.lastError = error;
    this.dispatchEvent(new SpEvent('error', { error }));
    const policy = this.reconnectPolicy;
    if (!policy || this.attempt >= policy.maxAttempts) {
      this.dispatchEvent(new SpEvent('close', { code: event.code, reason: event.reason,
        wasOpen, reconnectInMs: null, error }));
      const why = policy ? `gave up after ${this.attempt} reconnect attempts` :
        'reconnect is off';
      this.shutdown(new MsockError('ECLOSED', `msock ${this.describe()}: closed, ${why}; ` +
        `last error: ${error.message}`, { cause: error }));
      return;
    }
    const base = Math.min(policy.maxMs, policy.initialMs * policy.factor ** this.attempt);
    const delay = Math.round(base * (1 + policy.jitter * (2 * Math.random() - 1)));
    this.attempt++;
    this.dispatchEvent(new SpEvent('close', { code: event.code, reason: event.reason,
      wasOpen, reconnectInMs: delay, error }));
    this.retryTimer = setTimeout(() => this.dial(), delay);
  }

  shutdown(error) {
    if (this.closed) return;
    this.closed = true;
    this.closedError = error;
    this.isOpen = false;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    for (const waiter of this.openWaiters) {
      if (waiter.timer !== null) clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.openWaiters.clear();
    this.onShutdown(error);
  }
}
