// clients/js/services.js: the browser side of msock's services, the twin of C++
// msock::ServicesClient: named functions that a client (or the hub) provides and any client
// calls through an msock::Hub with HubServices, each call getting exactly one answer. Calls
// are rooms events with an ack: `_call/<service>` (the caller's deadline travels as
// Event.timeoutMs), `_svc/provide` / `_svc/withdraw` (payload: the name), and the hub's
// `_serve/<service>` to a provider (Event.from: the caller). Exported by msock.js.

import { SpEvent } from './socket.js';
import { MsockError, encodeText } from './util.js';

const MAX_NAME_BYTES = 256;

/** Throws EINVAL unless `name` can name a service (as the hub's CheckServiceName). */
function checkServiceName(name) {
  let why = null;
  if (typeof name !== 'string' || name === '') {
    why = 'a service name must be a non-empty string';
  } else if (encodeText(name).length > MAX_NAME_BYTES) {
    why = `a service name is at most ${MAX_NAME_BYTES} bytes of UTF-8`;
  } else if (/[\u0000-\u001f\u007f]/.test(name)) {
    why = 'a service name has no control characters';
  } else if (/[\ud800-\udfff]/.test(name.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''))) {
    why = 'a service name must be well-formed (no lone surrogate)';
  }
  if (why) {
    throw new MsockError('EINVAL', `msock services: ${why}, got ` +
      `${JSON.stringify(name) ?? String(name)}`);
  }
}

/**
 * Calls and provides services through an msock::Hub (new ServicesClient(rooms)).
 *
 * - call(name, args) resolves with the provider's answer, or rejects with a HubError: 5
 *   NOT_FOUND (no provider), 14 UNAVAILABLE (the provider went away mid-call), 4
 *   DEADLINE_EXCEEDED, or the provider's own code and reason; or with the RoomsClient's
 *   local errors (ETIMEDOUT, ECONNRESET, ...).
 * - provide(name, handler) answers the hub's calls to `name` with `handler(args, {caller,
 *   service, timeoutMs})`: its return value (a string, bytes, nothing, or a promise of one)
 *   is the caller's answer; a thrown HubError reaches the caller with its code and reason,
 *   anything else thrown as 13 INTERNAL. Provided services are provided again after every
 *   reconnect (the hub forgets them when the connection drops).
 *
 * @example
 * const services = new ServicesClient(rooms);
 * await services.provide('page.reverse', (args) => [...args].reverse().join(''));
 * const upper = await services.call('cpp.upper', 'hello', { timeoutMs: 2000 });
 */
export class ServicesClient {
  /** @param {import('./rooms.js').RoomsClient} rooms */
  constructor(rooms) {
    this.rooms = rooms;
    /** @type {Map<string, Function>} handlers of the services this client provides. */
    this.provided = new Map();
    this.onReconnected = () => {
      for (const name of this.provided.keys()) {
        this.rooms.emit('_svc/provide', name).catch((error) => this.rooms.dispatchEvent(
          new SpEvent('handlererror', { name: `provide "${name}" again`, error })));
      }
    };
    rooms.addEventListener('reconnected', this.onReconnected);
  }

  /**
   * Calls service `name` and waits for its one answer.
   * @param {string} name
   * @param {string | Uint8Array | ArrayBuffer | ArrayBufferView} [args='']
   * @param {{timeoutMs?: number, signal?: AbortSignal}} [options] `timeoutMs` (default the
   *   RoomsClient's ackTimeoutMs) also bounds how long the hub and the provider wait.
   * @returns {Promise<string | Uint8Array>} the answer (see the class for the errors).
   */
  async call(name, args = '', { timeoutMs, signal } = {}) {
    checkServiceName(name);
    return this.rooms.emit(`_call/${name}`, args, { timeoutMs, signal });
  }

  /**
   * Provides `name` through this client: installs its handler and tells the hub, waiting for
   * its answer. Providing a name again replaces the handler.
   * @param {string} name
   * @param {(args: string | Uint8Array, call: {caller: string, service: string,
   *   timeoutMs: number}) => any} handler `caller` is the calling client's id ('' for the
   *   hub); `timeoutMs` how long the caller still waits (Infinity if it did not say).
   * @param {{timeoutMs?: number}} [options]
   * @returns {Promise<void>} rejects with the hub's HubError (3 bad name, 8 limits) or the
   *   RoomsClient's errors; the handler is then not kept.
   */
  async provide(name, handler, { timeoutMs } = {}) {
    checkServiceName(name);
    if (typeof handler !== 'function') {
      throw new MsockError('EINVAL', 'msock services: a handler must be a function');
    }
    const before = this.provided.get(name);
    // Recorded first: a reconnect from now on provides it again.
    this.provided.set(name, handler);
    this.serve(name, handler);
    try {
      await this.rooms.emit('_svc/provide', name, { timeoutMs });
    } catch (error) {
      if (this.provided.get(name) === handler) {
        if (before) this.provided.set(name, before);
        else this.provided.delete(name);
        this.serve(name, before ?? null);
      }
      throw error;
    }
  }

  /**
   * Stops providing `name` (only this client's registration) and tells the hub.
   * @param {string} name
   * @param {{timeoutMs?: number}} [options]
   * @returns {Promise<void>}
   */
  async withdraw(name, { timeoutMs } = {}) {
    checkServiceName(name);
    this.provided.delete(name);
    this.serve(name, null);
    await this.rooms.emit('_svc/withdraw', name, { timeoutMs });
  }

  /** The names this client provides, sorted. @returns {string[]} */
  get names() {
    return [...this.provided.keys()].sort();
  }

  /** Stops listening for reconnects and removes the handlers (the hub is not told). */
  close() {
    this.rooms.removeEventListener('reconnected', this.onReconnected);
    for (const name of this.provided.keys()) this.serve(name, null);
    this.provided.clear();
  }

  /** Installs (or with null removes) the rooms handler of `_serve/<name>`. */
  serve(name, handler) {
    this.rooms.on(`_serve/${name}`, handler === null ? null : (args, event) =>
      handler(args, { caller: event.from, service: name, timeoutMs: event.timeoutMs }));
  }
}
