// clients/js/topics.js: the browser side of msock's topics (protocols/topics/WIRE.md), the
// twin of C++ msock::TopicsClient: replicas of hub topics on a RoomsClient, with previews of
// this client's actions in flight re-applied on top of the hub's confirmed value, rollback on
// refusal, resync on a gap in versions and after a reconnect. Change semantics live in
// topic_changes.js. Exported by msock.js.

import { HubError, Status } from './rooms.js';
import { SpEvent } from './socket.js';
import { MsockError, decodeText } from './util.js';
import { TOPIC_TYPES, deepFreeze, normalizeChange, toJsonValue } from './topic_changes.js';
import { ReplicaSet } from './topic_replicas.js';

const UPDATE_EVENT = '_topics/update';
const RESYNC_TIMEOUT_MS = 2000;

/** The JSON of an answer or event payload ('' reads as {}). */
function parsePayload(payload, what) {
  const text = typeof payload === 'string' ? payload : decodeText(payload);
  try {
    return deepFreeze(text === '' ? {} : JSON.parse(text));
  } catch (cause) {
    throw new MsockError('EINVAL', `msock topics: ${what} is not JSON: ${cause.message}`,
      { cause });
  }
}

function checkTopic(name) {
  if (typeof name !== 'string' || name === '') {
    throw new MsockError('EINVAL', `msock topics: a topic name must be a non-empty string, ` +
      `got ${JSON.stringify(name) ?? String(name)}`);
  }
}

/** True when the hub may or may not have applied an action that failed this way. */
function outcomeUnknown(error) {
  return !(error instanceof HubError) || error.code === Status.DEADLINE_EXCEEDED ||
    error.code === Status.UNAVAILABLE;
}

/**
 * Replicas of the topics of an msock::TopicHost, on a RoomsClient (new TopicsClient(rooms)).
 * subscribe() takes a snapshot and then every change in the hub's order; apply() shows an
 * action at once (a preview), sends it, and resolves when the hub accepted it, or rolls it
 * back and rejects with the hub's HubError. A replica that misses an update (a gap in
 * versions) asks for a fresh snapshot by itself, and every topic is subscribed again after
 * the RoomsClient reconnects, so the shown values end equal to the hub's.
 *
 * Values are plain JSON values, deep-frozen (copy one before editing it). It takes over the
 * RoomsClient's handler of the event `_topics/update`; it listens to the client's
 * `reconnected` event (onreconnected stays the page's).
 *
 * @example
 * const topics = new TopicsClient(rooms);
 * topics.onChange('todo', ({ kind, value }) => render(value));
 * await topics.subscribe('todo', { timeoutMs: 5000 });
 * await topics.apply([changes.listInsert('todo', -1, 'milk')]);  // shown before it resolves
 */
export class TopicsClient {
  /**
   * @param {import('./rooms.js').RoomsClient} rooms
   * @param {{maxPendingActions?: number}} [options] bounds the actions sent and not yet
   *   answered (default 1024).
   */
  constructor(rooms, { maxPendingActions = 1024 } = {}) {
    this.rooms = rooms;
    this.maxPendingActions = maxPendingActions;
    this.replicas = new ReplicaSet();
    /** @type {Map<string, Set<Function>>} onChange listeners by topic ('' = all). */
    this.listeners = new Map();
    const random = new Uint32Array(1);
    globalThis.crypto.getRandomValues(random);
    this.epoch = random[0];  // tells this object's action ids from older ones
    this.nextAction = 1;
    /** Topics whose fresh snapshot is asked for. @type {Set<string>} */
    this.resyncing = new Set();
    this.stats = { resyncs: 0, snapshots: 0, updates: 0, rolledBack: 0 };
    rooms.on(UPDATE_EVENT, (payload) => this.onUpdateEvent(payload));
    this.onReconnected = () => {
      this.replicas.forgetAll();
      this.subscribeAgain(this.topics, true);
    };
    rooms.addEventListener('reconnected', this.onReconnected);
  }

  /** Stops listening to the RoomsClient (its `_topics/update` handler goes). */
  close() {
    this.rooms.on(UPDATE_EVENT, null);
    this.rooms.removeEventListener('reconnected', this.onReconnected);
  }

  /** Actions sent and not yet answered. @returns {number} */
  get pending() {
    return this.replicas.actions.length;
  }

  /** The topics subscribed (or being subscribed). @returns {string[]} */
  get topics() {
    return [...this.replicas.replicas.keys()];
  }

  /**
   * The topic's value as shown: the hub's, with this client's actions in flight applied.
   * @param {string} name
   * @returns {any} a frozen JSON value; undefined unless subscribed (and a snapshot came).
   */
  value(name) {
    const r = this.replicas.get(name);
    return r?.hasValue ? r.shown : undefined;
  }

  /**
   * The hub's version of the value this replica confirmed (it counts up by one per action).
   * @param {string} name
   * @returns {number | undefined} undefined unless subscribed.
   */
  version(name) {
    return this.replicas.get(name)?.version;
  }

  /**
   * Subscribes and waits for the snapshot.
   * @param {string} name
   * @param {{timeoutMs?: number}} [options] default the RoomsClient's ackTimeoutMs.
   * @returns {Promise<any>} the value. Rejects with the hub's HubError (5 NOT_FOUND, 7
   *   PERMISSION_DENIED...) or the RoomsClient's errors (ETIMEDOUT, ECONNRESET, ...).
   */
  async subscribe(name, { timeoutMs } = {}) {
    checkTopic(name);
    this.replicas.expect(name);
    let answer;
    try {
      answer = await this.rooms.emit('_topics/subscribe', JSON.stringify({ topics: [name] }),
        { timeoutMs });
    } catch (error) {
      this.replicas.drop(name);
      throw error;
    }
    const refusal = this.onSubscribed(answer).find((r) => r.topic === name);
    if (refusal) throw new HubError(refusal.code, refusal.reason, { context: 'msock topics' });
    return this.value(name);
  }

  /**
   * Stops the replica at once and tells the hub.
   * @param {string} name
   * @param {{timeoutMs?: number}} [options]
   * @returns {Promise<void>}
   */
  async unsubscribe(name, { timeoutMs } = {}) {
    checkTopic(name);
    this.replicas.drop(name);
    await this.rooms.emit('_topics/unsubscribe', JSON.stringify({ topics: [name] }),
      { timeoutMs });
  }

  /**
   * Previews `changes` on the subscribed topics they touch, sends them as one atomic action
   * and waits for the hub's verdict. Changes to topics not subscribed are sent, not shown.
   * @param {object | object[]} changes change records (see `changes`).
   * @param {{timeoutMs?: number}} [options] default the RoomsClient's ackTimeoutMs.
   * @returns {Promise<Record<string, number>>} each touched topic's new version. Rejects at
   *   once, sending nothing, with a HubError (`local: true`) when a change does not apply to
   *   the shown value (the code the hub would answer: 3, 5, 6, 10, 11) or 8 when
   *   maxPendingActions wait; with the hub's HubError when it refused the action (the
   *   preview is rolled back first: a `rolledBack` event); or with the RoomsClient's error
   *   (ETIMEDOUT, ECONNRESET...: the outcome is unknown, so the preview is dropped and the
   *   topics take a fresh snapshot).
   */
  async apply(changes, { timeoutMs } = {}) {
    const list = (Array.isArray(changes) ? changes : [changes]).map(normalizeChange);
    if (this.pending >= this.maxPendingActions) {
      const error = new HubError(Status.RESOURCE_EXHAUSTED, `${this.maxPendingActions} ` +
        'actions already wait for the hub', { context: 'msock topics' });
      error.local = true;
      throw error;
    }
    const id = `${this.rooms.id}_${this.epoch}_${this.nextAction++}`;
    const action = { id, changes: list.map((c, i) => Object.freeze({ ...c, id: `${id}_${i}` })) };
    const events = [];
    this.replicas.preview(action, events);
    this.fire(events);
    let answer;
    try {
      answer = await this.rooms.emit('_topics/action', JSON.stringify(action), { timeoutMs });
    } catch (error) {
      return this.verdict(id, null, error);  // rolls back, then throws `error`
    }
    return this.verdict(id, answer, null);
  }

  /**
   * The hub's value of a topic, without subscribing.
   * @param {string} name
   * @param {{timeoutMs?: number}} [options]
   * @returns {Promise<any>} rejects with the hub's HubError (5, 7) or the RoomsClient's.
   */
  async fetch(name, { timeoutMs } = {}) {
    checkTopic(name);
    const answer = parsePayload(await this.rooms.emit('_topics/fetch',
      JSON.stringify({ topics: [name] }), { timeoutMs }), 'the answer to fetch');
    const snap = answer.snapshots?.[0];
    if (!snap) throw new MsockError('EINVAL', `msock topics: fetch "${name}" got no snapshot`);
    return snap.value ?? null;
  }

  /**
   * Asks the hub to create a topic (it must allow clients to: allow_client_topics or its
   * access hook).
   * @param {string} name
   * @param {string} type one of TOPIC_TYPES ('int', 'list', ...).
   * @param {any} [initial] the first value (undefined: the type's default).
   * @param {{timeoutMs?: number}} [options]
   * @returns {Promise<void>} rejects with the hub's HubError (6 ALREADY_EXISTS, 7, 3).
   */
  async create(name, type, initial = undefined, { timeoutMs } = {}) {
    checkTopic(name);
    if (!TOPIC_TYPES.includes(type)) {
      throw new MsockError('EINVAL', `msock topics: unknown topic type ${JSON.stringify(type)}` +
        ` (${TOPIC_TYPES.join(', ')})`);
    }
    const request = { topic: name, type };
    if (initial !== undefined) request.value = toJsonValue(initial, 'the initial value');
    await this.rooms.emit('_topics/create', JSON.stringify(request), { timeoutMs });
  }

  /**
   * Asks the hub to remove a topic; its subscribers get a `rolledBack` event with code 5.
   * @param {string} name
   * @param {{timeoutMs?: number}} [options]
   * @returns {Promise<void>} rejects with the hub's HubError (5, 7).
   */
  async remove(name, { timeoutMs } = {}) {
    checkTopic(name);
    await this.rooms.emit('_topics/remove', JSON.stringify({ topic: name }), { timeoutMs });
  }

  /**
   * Calls `callback` for every event on topic `name` ('' = every topic), with
   * {kind, topic, version, origin, changes, value, error}: `kind` is 'snapshot' (a whole
   * value arrived), 'preview' (this client's action, shown before the verdict), 'applied'
   * (the hub applied an action, anyone's; `origin` is the sender's client id, '' for the
   * hub) or 'rolledBack' (this client's action was refused or lost, or the topic was
   * removed; `error` says why); `changes` the change records, `value` the value as shown
   * now and `version` the confirmed version. Unlike C++ OnChange it adds a listener.
   * @param {string} name
   * @param {(event: object) => void} callback
   * @returns {() => void} removes this listener.
   */
  onChange(name, callback) {
    if (typeof callback !== 'function') {
      throw new MsockError('EINVAL', 'msock topics: onChange needs a function');
    }
    if (!this.listeners.has(name)) this.listeners.set(name, new Set());
    this.listeners.get(name).add(callback);
    return () => this.listeners.get(name)?.delete(callback);
  }

  fire(events) {
    for (const ev of events) {
      if (ev.kind === 'rolledBack') this.stats.rolledBack++;
      for (const key of [ev.topic, '']) {
        for (const callback of [...(this.listeners.get(key) ?? [])]) {
          try {
            callback(ev);
          } catch (error) {
            this.rooms.dispatchEvent(new SpEvent('handlererror',
              { name: `topics onChange ${JSON.stringify(key)}`, error }));
          }
        }
      }
    }
  }

  /** Applies a subscribe answer; resyncs what still has a gap. Returns the refusals. */
  onSubscribed(answer) {
    const out = parsePayload(answer, 'the answer to subscribe');
    const events = [];
    const again = [];
    for (const snap of out.snapshots ?? []) {
      this.stats.snapshots++;
      if (!this.replicas.onSnapshot(snap, events)) again.push(snap.topic);
    }
    const refused = (out.refused ?? []).map((r) => ({ topic: String(r.topic ?? ''),
      code: Number(r.code ?? 2), reason: String(r.reason ?? '') }));
    for (const r of refused) this.replicas.drop(r.topic);
    this.fire(events);
    if (again.length > 0) this.subscribeAgain(again);
    return refused;
  }

  onUpdateEvent(payload) {
    let u;
    try {
      u = parsePayload(payload, 'a topics update');
    } catch {
      this.rooms.drop('malformed', String(payload).length);
      return;
    }
    this.stats.updates++;
    const events = [];
    const resync = this.replicas.onUpdate(u, this.rooms.id, events);
    this.fire(events);
    if (resync) this.subscribeAgain([u.topic]);
  }

  /** The hub answered action `id`: returns its versions, or throws `error` once rolled back. */
  verdict(id, answer, error) {
    const events = [];
    let unknown = [];
    let versions = null;
    if (!error) {
      try {
        versions = Object.fromEntries(Object.entries(parsePayload(answer,
          'the answer to an action').versions ?? {}).map(([t, v]) => [t, Number(v)]));
      } catch (cause) {
        error = cause;
      }
    }
    if (!error) {
      this.replicas.accepted(id, versions);
      return versions;
    }
    const touched = this.replicas.failed(id, error, events);
    // Lost, not refused: the hub may have applied it; ask what it has.
    if (outcomeUnknown(error)) unknown = touched;
    this.fire(events);
    if (unknown.length > 0) this.subscribeAgain(unknown);
    throw error;
  }

  /**
   * Asks for fresh snapshots of `names`, one request in flight per topic (`force`: after a
   * reconnect, when the hub forgot the subscriptions). An answer lost to a full queue times
   * out and is asked for again.
   */
  subscribeAgain(names, force = false) {
    const wanted = names.filter((name) => this.replicas.get(name) &&
      (force || !this.resyncing.has(name)));
    if (wanted.length === 0 || this.rooms.closed) return;
    for (const name of wanted) this.resyncing.add(name);
    this.stats.resyncs++;
    const done = () => wanted.forEach((name) => this.resyncing.delete(name));
    this.rooms.emit('_topics/subscribe', JSON.stringify({ topics: wanted }),
      { timeoutMs: RESYNC_TIMEOUT_MS }).then((answer) => {
      done();
      try {
        this.onSubscribed(answer);
      } catch (error) {
        this.rooms.dispatchEvent(new SpEvent('handlererror', { name: UPDATE_EVENT, error }));
      }
    }, (error) => {
      done();
      // The deadline paces the retries; a lost connection resubscribes everything once
      // welcomed again.
      if (error?.code === 'ETIMEDOUT' || error?.code === Status.DEADLINE_EXCEEDED) {
        this.subscribeAgain(wanted);
      }
    });
  }
}
