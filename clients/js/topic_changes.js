// clients/js/topic_changes.js: the change records of msock's topics (protocols/topics/WIRE.md)
// in the browser: the builders (`changes.set`, `changes.listInsert`, ...), the topic types
// and the exact effect and preconditions of every change type, the same as the hub's
// protocols/topics/change.cc, so that a preview shows what the hub will do and refuses what
// it would refuse, with the same status code. Values are plain JSON values, deep-frozen.
// Used by topics.js; exported by msock.js.

import { HubError, Status } from './rooms.js';
import { MsockError, wellFormed } from './util.js';

const MAX_SAFE_INT = 2 ** 53;

/** The topic types, as the wire names them. @type {ReadonlyArray<string>} */
export const TOPIC_TYPES = Object.freeze(['generic', 'string', 'int', 'float', 'bool', 'set',
  'list', 'dict', 'event']);

/** Freezes a JSON value and everything in it; returns it. */
export function deepFreeze(value) {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

/**
 * A copy of `value` as it will look once it went through JSON (what the hub receives):
 * undefined object members dropped, NaN and Infinity as null, lone surrogates as U+FFFD,
 * frozen. Throws EINVAL for what JSON cannot hold (a BigInt, a cycle).
 */
export function toJsonValue(value, what = 'a value') {
  let text;
  try {
    text = JSON.stringify(value, (key, v) => (typeof v === 'string' ? wellFormed(v) : v));
  } catch (cause) {
    throw new MsockError('EINVAL', `msock topics: ${what} is not JSON: ${cause.message}`,
      { cause });
  }
  return deepFreeze(text === undefined ? null : JSON.parse(text));
}

/** The text of a JSON value with object keys sorted: equal values have equal texts. */
export function canonicalJson(value) {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((key) =>
      `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** JSON equality: object keys in any order (the hub's rule for set items). */
export function jsonEqual(a, b) {
  return canonicalJson(a) === canonicalJson(b);
}

function isInt(v) {
  return typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= MAX_SAFE_INT;
}

function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function refuse(code, reason) {
  const error = new HubError(code, reason, { context: 'msock topics' });
  /** Refused here, before sending: the hub would have refused it the same way. */
  error.local = true;
  return error;
}

function bad(c, why) {
  return refuse(Status.INVALID_ARGUMENT, `${c.type}: ${why}`);
}

/** Throws INVALID_ARGUMENT unless `v` is a valid whole value of a topic of `type`. */
export function checkValue(type, v) {
  const want = (ok, what) => {
    if (!ok) throw refuse(Status.INVALID_ARGUMENT, `a ${type} topic holds ${what}`);
  };
  switch (type) {
    case 'string': return want(typeof v === 'string', 'a string');
    case 'int': return want(isInt(v), 'an integer within +-2^53');
    case 'float': return want(typeof v === 'number', 'a number');
    case 'bool': return want(typeof v === 'boolean', 'true or false');
    case 'list': return want(Array.isArray(v), 'a list');
    case 'dict': return want(isObject(v), 'an object');
    case 'event': return want(v === null || v === undefined, 'no value');
    case 'set': {
      want(Array.isArray(v), 'a list');
      const seen = new Set(v.map(canonicalJson));
      return want(seen.size === v.length, 'a list of distinct items');
    }
    default: return undefined;
  }
}

/** UTF-16 index of code point `cp` in `s` (at most s.length). */
function utf16Index(s, cp) {
  let i = 0;
  for (let n = 0; n < cp && i < s.length; n++) i += s.codePointAt(i) > 0xffff ? 2 : 1;
  return i;
}

const codePoints = (s) => Array.from(s).length;

const hasPosition = (c) => typeof c.position === 'number' && Number.isInteger(c.position);

function applyString(s, c) {
  const len = codePoints(s);
  if (!hasPosition(c) || c.position < 0 || c.position > len) {
    throw refuse(Status.OUT_OF_RANGE, `${c.type}: position outside 0..${len} of the string`);
  }
  const at = utf16Index(s, c.position);
  const text = c.text ?? '';
  if (c.type === 'insert') return { value: s.slice(0, at) + text + s.slice(at) };
  if (c.type !== 'delete') throw bad(c, 'not a change of a string topic');
  if (!s.startsWith(text, at)) {
    throw refuse(Status.ABORTED, 'delete: the text at that position differs');
  }
  return { value: s.slice(0, at) + s.slice(at + text.length) };
}

function applyNumber(type, v, c) {
  if (c.type !== 'add') throw bad(c, 'not a change of a number topic');
  if (typeof c.value !== 'number') throw bad(c, 'value must be a number');
  const next = (typeof v === 'number' ? v : 0) + c.value;
  if (!Number.isFinite(next)) throw refuse(Status.OUT_OF_RANGE, 'add: the sum is out of range');
  if (type === 'int' && (!isInt(c.value) || !isInt(next))) {
    throw bad(c, 'an int topic must stay an integer within +-2^53');
  }
  return { value: next };
}

function applySet(list, c) {
  const key = canonicalJson(c.item);
  const at = list.findIndex((item) => canonicalJson(item) === key);
  if (c.type === 'append') {
    if (at >= 0) throw refuse(Status.ALREADY_EXISTS, 'append: item already in set');
    return { value: [...list, c.item ?? null] };
  }
  if (c.type !== 'remove') throw bad(c, 'not a change of a set topic');
  if (at < 0) throw refuse(Status.NOT_FOUND, 'remove: item not in set');
  return { value: list.filter((_, i) => i !== at) };
}

/** A list index for pop / set_at: -1 is the last element. */
function elementIndex(c, size) {
  if (!hasPosition(c)) throw bad(c, 'needs a position');
  const p = c.position < 0 ? c.position + size : c.position;
  if (p < 0 || p >= size) {
    throw refuse(Status.OUT_OF_RANGE,
      `${c.type}: position ${c.position} outside a list of ${size}`);
  }
  return p;
}

function applyList(list, c) {
  const size = list.length;
  if (c.type === 'insert') {
    if (!hasPosition(c)) throw bad(c, 'needs a position');
    const p = c.position < 0 ? c.position + size + 1 : c.position;  // -1 appends
    if (p < 0 || p > size) {
      throw refuse(Status.OUT_OF_RANGE,
        `insert: position ${c.position} outside a list of ${size}`);
    }
    return { value: [...list.slice(0, p), c.item ?? null, ...list.slice(p)],
      recorded: { position: p } };
  }
  if (c.type !== 'pop' && c.type !== 'set_at') throw bad(c, 'not a change of a list topic');
  const at = elementIndex(c, size);
  if (c.type === 'set_at') {
    const value = list.slice();
    value[at] = c.item ?? null;
    return { value, recorded: { position: at, oldValue: list[at] } };
  }
  return { value: list.filter((_, i) => i !== at), recorded: { position: at, item: list[at] } };
}

function applyDict(dict, c) {
  const key = c.key ?? '';
  const has = Object.prototype.hasOwnProperty.call(dict, key);
  if (c.type === 'add') {
    if (has) throw refuse(Status.ALREADY_EXISTS, `add: key ${JSON.stringify(key)} exists`);
    return { value: { ...dict, [key]: c.value ?? null } };
  }
  if (c.type !== 'pop' && c.type !== 'change_value') {
    throw bad(c, 'not a change of a dict topic');
  }
  if (!has) throw refuse(Status.NOT_FOUND, `${c.type}: no key ${JSON.stringify(key)}`);
  const value = { ...dict, [key]: c.value ?? null };  // (computed: "__proto__" stays a key)
  if (c.type === 'pop') delete value[key];
  return { value, recorded: { oldValue: dict[key] } };
}

/**
 * Applies change record `c` to `value`, the value of a topic of `type`, without touching
 * either. Returns {value, change}: the new value (frozen) and the change as applied, with
 * what the hub records (oldValue, the item popped, the list position used). Throws a
 * HubError (with `local: true`) when the hub would refuse it: 3 INVALID_ARGUMENT (wrong
 * change for the type, bad field), 11 OUT_OF_RANGE (position), 6 ALREADY_EXISTS / 5
 * NOT_FOUND (set item, dict key), 10 ABORTED (a string delete whose text differs).
 * @param {string} type a topic type (TOPIC_TYPES).
 * @param {any} value
 * @param {object} c a change record {type, ...fields}.
 * @returns {{value: any, change: object}}
 */
export function applyChange(type, value, c) {
  let result;
  if (c.type === 'set') {
    if (type === 'event') throw bad(c, 'an event topic has no value');
    checkValue(type, c.value);
    result = { value: c.value ?? null, recorded: { oldValue: value } };
  } else if (c.type === 'emit') {
    if (type !== 'event') throw bad(c, 'only event topics emit');
    result = { value };
  } else if (type === 'string') {
    result = applyString(typeof value === 'string' ? value : '', c);
  } else if (type === 'int' || type === 'float') {
    result = applyNumber(type, value, c);
  } else if (type === 'set') {
    result = applySet(Array.isArray(value) ? value : [], c);
  } else if (type === 'list') {
    result = applyList(Array.isArray(value) ? value : [], c);
  } else if (type === 'dict') {
    result = applyDict(isObject(value) ? value : {}, c);
  } else {
    throw bad(c, `a ${type} topic only takes set`);
  }
  const change = result.recorded ? Object.freeze({ ...c, ...result.recorded }) : c;
  return { value: deepFreeze(result.value), change };
}

/**
 * A change record ready to send: a JSON copy of `change` (see toJsonValue) that names its
 * topic and type. Throws EINVAL otherwise.
 */
export function normalizeChange(change) {
  if (!isObject(change)) {
    throw new MsockError('EINVAL', 'msock topics: a change must be an object ' +
      '(build it with changes.set(), changes.add(), ...)');
  }
  const c = toJsonValue(change, 'a change');
  if (typeof c.topic !== 'string' || c.topic === '' || typeof c.type !== 'string') {
    throw new MsockError('EINVAL', 'msock topics: a change needs a topic and a type, got ' +
      JSON.stringify(c));
  }
  return c;
}

const record = (topic, type, fields) => Object.freeze({ topic, type, ...fields });

/**
 * Builders of change records, mirroring C++ msock::changes, for TopicsClient.apply(). The
 * values are JS values (sent as JSON). Positions in strings count Unicode code points;
 * negative list positions count from the end (-1: append for listInsert, the last element
 * for listPop and listSet).
 */
export const changes = Object.freeze({
  /** Replaces the whole value (any topic but event). */
  set: (topic, value) => record(topic, 'set', { value }),
  /** Adds a number (int and float topics; negative subtracts). */
  add: (topic, amount) => record(topic, 'add', { value: amount }),
  insertText: (topic, position, text) => record(topic, 'insert', { position, text }),
  /** Removes `text`, which must be at `position`. */
  deleteText: (topic, position, text) => record(topic, 'delete', { position, text }),
  setAdd: (topic, item) => record(topic, 'append', { item }),
  setRemove: (topic, item) => record(topic, 'remove', { item }),
  listInsert: (topic, position, item) => record(topic, 'insert', { position, item }),
  listPop: (topic, position) => record(topic, 'pop', { position }),
  listSet: (topic, position, item) => record(topic, 'set_at', { position, item }),
  dictAdd: (topic, key, value) => record(topic, 'add', { key, value }),
  dictPop: (topic, key) => record(topic, 'pop', { key }),
  dictChange: (topic, key, value) => record(topic, 'change_value', { key, value }),
  /** An event topic's emit: subscribers see `args`; nothing is stored. */
  emit: (topic, args) => record(topic, 'emit', { value: args }),
});
