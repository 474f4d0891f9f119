// clients/js/topic_replicas.js: a TopicsClient's copies of its topics and its actions in
// flight, pure state with no I/O (the JS twin of protocols/topics/replica.cc). Per topic:
// the hub's confirmed value at `version`, and the shown value = confirmed + the previews of
// this client's actions still open on that topic, re-applied in order (a preview that no
// longer applies after a foreign change is skipped: rebase). An action's preview on a topic
// closes on the hub's update with that action id, on a snapshot at or past the version the
// hub's answer gave, or when the action is refused or lost.

import { HubError, Status } from './rooms.js';
import { TOPIC_TYPES, applyChange } from './topic_changes.js';

const MAX_BUFFERED = 4096;  // updates held per topic while waiting for a snapshot

/** One subscribed topic. */
class Replica {
  constructor() {
    this.ready = false;  // has a snapshot and no gap since
    this.hasValue = false;  // a snapshot came once
    this.type = 'generic';
    this.confirmed = null;
    this.version = 0;
    this.shown = null;
    /** @type {Map<number, object>} updates by version, held while not ready. */
    this.buffered = new Map();
  }
}

/**
 * @internal The replicas and the actions in flight. Every method that changes what is shown
 * appends the events for the onChange listeners to `events`:
 * {kind, topic, version, origin, changes, value, error}.
 */
export class ReplicaSet {
  constructor() {
    /** @type {Map<string, Replica>} */
    this.replicas = new Map();
    /** Actions in flight, oldest first: {id, changes, open, accepted, answered}. */
    this.actions = [];
  }

  /** Starts a replica waiting for its snapshot (no-op if it exists). */
  expect(name) {
    if (!this.replicas.has(name)) this.replicas.set(name, new Replica());
  }

  drop(name) {
    this.replicas.delete(name);
    for (const a of this.actions) a.open.delete(name);
    this.prune();
  }

  /** After a reconnect: the hub forgot the subscriptions; wait for fresh snapshots. */
  forgetAll() {
    for (const r of this.replicas.values()) {
      r.ready = false;
      r.buffered.clear();
    }
  }

  get(name) {
    return this.replicas.get(name);
  }

  /** Drops the actions answered and no longer shown anywhere. */
  prune() {
    this.actions = this.actions.filter((a) => !a.answered || a.open.size > 0);
  }

  /** Shown = confirmed + the open previews on `topic`, re-applied in order. */
  recompute(topic, r) {
    let shown = r.confirmed;
    for (const a of this.actions) {
      if (!a.open.has(topic)) continue;
      for (const c of a.changes) {
        if (c.topic !== topic) continue;
        try {
          shown = applyChange(r.type, shown, c).value;
        } catch {
          // No longer applies after a foreign change: skipped; its verdict will tell.
        }
      }
    }
    r.shown = shown;
  }

  static event(kind, topic, r, extra = {}) {
    return { kind, topic, version: r.version, origin: '', changes: [], value: r.shown,
      error: null, ...extra };
  }

  /** A snapshot (subscribe or resync). Returns false if held updates still leave a gap. */
  onSnapshot(snap, events) {
    const r = this.replicas.get(snap.topic);
    if (!r) return true;
    r.type = TOPIC_TYPES.includes(snap.type) ? snap.type : 'generic';
    r.confirmed = snap.value ?? null;
    r.version = Number(snap.version ?? 0);
    r.ready = true;
    r.hasValue = true;
    for (const a of this.actions) {
      const v = a.accepted.get(snap.topic);
      if (v !== undefined && v <= r.version) a.open.delete(snap.topic);
    }
    this.prune();
    const held = [...r.buffered.entries()].sort(([x], [y]) => x - y);
    r.buffered.clear();
    this.recompute(snap.topic, r);
    events.push(ReplicaSet.event('snapshot', snap.topic, r));
    let whole = true;
    for (const [version, u] of held) {
      if (version <= r.version) continue;
      if (!whole || this.onUpdate(u, '', events)) whole = false;
    }
    return whole;
  }

  /**
   * An update from the hub; `self` is this client's id. Returns true if the topic needs a
   * fresh snapshot (a gap in versions, or a change that does not apply).
   */
  onUpdate(u, self, events) {
    const topic = String(u.topic ?? '');
    const r = this.replicas.get(topic);
    if (!r) return false;  // not subscribed (any more)
    if (u.removed) {
      events.push(ReplicaSet.event('rolledBack', topic, r, { error: new HubError(
        Status.NOT_FOUND, `topic "${topic}" was removed`, { context: 'msock topics' }) }));
      this.drop(topic);
      return false;
    }
    const version = Number(u.version ?? 0);
    if ((u.changes ?? []).length === 0) {  // a version notice: resync if behind
      if (!r.ready || version <= r.version) return false;
      r.ready = false;
      return true;
    }
    // A coalesced update (several versions merged) names the version it applies to.
    const base = u.base !== undefined ? Number(u.base) : version - 1;
    if (!r.ready || base !== r.version) {
      if (r.ready && version <= r.version) return false;  // old news
      if (r.buffered.size < MAX_BUFFERED) r.buffered.set(version, u);
      const gap = r.ready;
      r.ready = false;
      return gap;
    }
    let next = r.confirmed;
    const applied = [];
    for (const c of u.changes ?? []) {
      try {
        next = applyChange(r.type, next, c).value;
      } catch {
        r.ready = false;  // we disagree with the hub: take its snapshot
        return true;
      }
      applied.push(c);
    }
    r.confirmed = next;
    r.version = version;
    const origin = String(u.origin ?? '');
    if (origin !== '' && origin === self) {
      for (const a of this.actions) {
        if (a.id === u.action) a.open.delete(topic);
      }
      this.prune();
    }
    this.recompute(topic, r);
    events.push(ReplicaSet.event('applied', topic, r, { origin, changes: applied }));
    return false;
  }

  /**
   * Checks `action` ({id, changes}) against the shown values and previews it. Changes to
   * topics not (yet) ready are sent but not previewed. String inserts and deletes get the
   * version their positions refer to (`base`). Throws the HubError of the first change that
   * does not apply (then nothing is previewed).
   */
  preview(action, events) {
    const a = { id: action.id, changes: [], open: new Set(), accepted: new Map(),
      answered: false };
    const trial = new Map();
    for (const [i, change] of action.changes.entries()) {
      const r = this.replicas.get(change.topic);
      if (!r || !r.ready) continue;
      let c = change;
      if (r.type === 'string' && (c.type === 'insert' || c.type === 'delete')) {
        c = Object.freeze({ ...c, base: r.version });  // the hub rebases it from there
        action.changes[i] = c;
      }
      const before = trial.has(c.topic) ? trial.get(c.topic) : r.shown;
      try {
        trial.set(c.topic, applyChange(r.type, before, c).value);
      } catch (error) {
        if (error instanceof HubError) {
          error.message = `msock topics: ${c.type} on "${c.topic}": ${error.status}: ` +
            error.reason;
        }
        throw error;
      }
      a.changes.push(c);
      a.open.add(c.topic);
    }
    this.actions.push(a);
    for (const [topic, value] of trial) {
      const r = this.replicas.get(topic);
      r.shown = value;
      events.push(ReplicaSet.event('preview', topic, r,
        { changes: action.changes.filter((c) => c.topic === topic) }));
    }
  }

  /** The hub accepted action `id`, giving these versions ({topic: version}). */
  accepted(id, versions) {
    const a = this.actions.find((x) => x.id === id);
    if (!a) return;
    a.answered = true;
    for (const [topic, version] of Object.entries(versions)) {
      a.accepted.set(topic, version);
      const r = this.replicas.get(topic);
      if (r && r.ready && r.version >= version) a.open.delete(topic);
    }
    this.prune();
  }

  /** The hub refused action `id`, or its outcome is unknown: undoes its previews. */
  failed(id, error, events) {
    const index = this.actions.findIndex((a) => a.id === id);
    if (index < 0) return [];
    const [a] = this.actions.splice(index, 1);
    const touched = [...a.open];
    for (const topic of touched) {
      const r = this.replicas.get(topic);
      if (!r) continue;
      this.recompute(topic, r);
      events.push(ReplicaSet.event('rolledBack', topic, r,
        { changes: a.changes.filter((c) => c.topic === topic), error }));
    }
    return touched;
  }
}
