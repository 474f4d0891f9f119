// clients/js/util.js: the small pieces every msock role shares: the error type, UTF-8, base64 and
// big-endian word helpers, and the Inbox that hands received bodies to recv(), to async
// iteration or to an onmessage callback. Part of the msock browser client (see msock.js).

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });
const lenientDecoder = new TextDecoder('utf-8');

/**
 * The one error type the client throws or rejects with. `code` says what kind of failure it
 * is, in NNG's spelling, so callers can branch on it without parsing the message:
 * - `ETIMEDOUT` a request, recv() or whenOpen() ran past its deadline;
 * - `ECLOSED` the socket was closed (by close(), or it gave up reconnecting);
 * - `ECONNREFUSED` a websocket closed before its handshake finished;
 * - `ECONNRESET` an open websocket was closed by the peer or the network;
 * - `ECANCELED` a request was aborted through its AbortSignal;
 * - `EINVAL` a bad argument or option;
 * - `ENOENT` unsubscribe() of a prefix that is not subscribed;
 * - `EAGAIN` a send queue is full while disconnected;
 * - `EMSGSIZE` a message would be larger than the peer accepts (RoomsClient).
 * A HubError (rooms.js) is an MsockError whose `code` is a number: the hub's status code.
 */
export class MsockError extends Error {
  /**
   * @param {string} code one of the codes listed on the class.
   * @param {string} message what went wrong, with the URL and role when they help.
   * @param {{cause?: unknown}} [options]
   */
  constructor(code, message, options) {
    super(message, options);
    this.name = 'MsockError';
    /** @type {string} */
    this.code = code;
  }
}

/**
 * Encodes a string as UTF-8 bytes.
 * @param {string} text
 * @returns {Uint8Array}
 */
export function encodeText(text) {
  return encoder.encode(text);
}

/**
 * Decodes UTF-8 bytes into a string; invalid sequences become U+FFFD.
 * @param {Uint8Array | ArrayBuffer} bytes
 * @returns {string}
 */
export function decodeText(bytes) {
  return lenientDecoder.decode(bytes);
}

/**
 * Decodes UTF-8 bytes holding JSON (for peers that speak JSON in their bodies).
 * @param {Uint8Array | ArrayBuffer} bytes
 * @returns {any} the parsed value; throws SyntaxError when the text is not JSON.
 */
export function decodeJson(bytes) {
  return JSON.parse(lenientDecoder.decode(bytes));
}

/**
 * Turns a message body given by the caller into bytes: a string is UTF-8 encoded, a
 * Uint8Array is used as is, any other ArrayBuffer view or ArrayBuffer is viewed as bytes.
 * @param {string | Uint8Array | ArrayBufferView | ArrayBuffer} body
 * @param {string} what names the argument in the error message.
 * @returns {Uint8Array}
 */
export function toBytes(body, what = 'body') {
  if (typeof body === 'string') return encoder.encode(body);
  if (body instanceof Uint8Array) return body;
  if (ArrayBuffer.isView(body)) {
    return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  }
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  throw new MsockError('EINVAL', `msock: ${what} must be a string, Uint8Array or ArrayBuffer, ` +
    `not ${body === null ? 'null' : typeof body}`);
}

/**
 * @internal The string with each lone UTF-16 surrogate replaced by U+FFFD, as UTF-8 encoding does
 * (the hub's JSON parser refuses the \ud800 escapes JSON.stringify would write for them).
 */
export function wellFormed(text) {
  if (typeof text.toWellFormed === 'function') return text.toWellFormed();
  const lone = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
  return text.replace(lone, '\ufffd');
}

/** @internal Standard base64 of bytes (protobuf's JSON mapping of a bytes field). */
export function toBase64(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** @internal Bytes of base64 text; the URL-safe alphabet and missing padding are accepted too. */
export function fromBase64(text) {
  let normal = text.replace(/-/g, '+').replace(/_/g, '/');
  while (normal.length % 4 !== 0) normal += '=';
  const binary = atob(normal);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** @internal Decodes bytes that must be valid UTF-8 (for text frames); null when they are not. */
export function strictText(bytes) {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    return null;
  }
}

/** @internal Reads the big-endian 32-bit word at offset 0. */
export function getWord(bytes) {
  return ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
}

/** @internal Returns a new array: the big-endian word `word` followed by `body`. */
export function withWord(word, body) {
  const out = new Uint8Array(4 + body.length);
  out[0] = word >>> 24;
  out[1] = (word >>> 16) & 0xff;
  out[2] = (word >>> 8) & 0xff;
  out[3] = word & 0xff;
  out.set(body, 4);
  return out;
}

/** @internal True when `bytes` starts with `prefix`. */
export function startsWith(bytes, prefix) {
  if (prefix.length > bytes.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    if (bytes[i] !== prefix[i]) return false;
  }
  return true;
}

/**
 * @internal Where received bodies wait for the application. If `onmessage` is set every body
 * goes to it; otherwise bodies queue (at most `limit`; the oldest is dropped past that, the
 * way a full NNG receive queue drops) until recv() or an async iterator takes them.
 */
export class Inbox {
  constructor(limit, describe, onOverflow) {
    this.limit = limit;
    this.describe = describe;
    this.onOverflow = onOverflow;
    /** @type {((body: Uint8Array) => void) | null} */
    this.onmessage = null;
    this.queue = [];
    this.waiters = [];
    this.closedError = null;
  }

  push(body) {
    if (this.onmessage) {
      this.onmessage(body);
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter.settle(body, null);
      return;
    }
    if (this.queue.length >= this.limit) {
      this.queue.shift();
      this.onOverflow();
    }
    this.queue.push(body);
  }

  recv(timeoutMs) {
    if (this.queue.length > 0) return Promise.resolve(this.queue.shift());
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      const waiter = {
        timer: null,
        settle: (body, error) => {
          if (waiter.timer !== null) clearTimeout(waiter.timer);
          if (error) reject(error);
          else resolve(body);
        },
      };
      if (timeoutMs !== undefined && timeoutMs !== Infinity) {
        waiter.timer = setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          reject(new MsockError('ETIMEDOUT',
            `msock: no message within ${timeoutMs} ms on ${this.describe()}`));
        }, timeoutMs);
      }
      this.waiters.push(waiter);
    });
  }

  close(error) {
    this.closedError = error;
    for (const waiter of this.waiters.splice(0)) waiter.settle(null, error);
  }

  iterator() {
    return {
      next: () => this.recv().then(
        (value) => ({ value, done: false }),
        (error) => {
          if (error.code === 'ECLOSED' && this.queue.length === 0) {
            return { value: undefined, done: true };
          }
          throw error;
        }),
      return: () => Promise.resolve({ value: undefined, done: true }),
      [Symbol.asyncIterator]() { return this; },
    };
  }
}
