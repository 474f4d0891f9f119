// tests/browser/fake_rooms.mjs: a RoomsClient stand-in for the node tests of the clients built
// on one (services_client_test.mjs, queue_client_test.mjs): it records emits, to be answered
// by hand, and the handlers set; `reconnected` is dispatched by the test.

import assert from 'node:assert/strict';

export class FakeRooms extends EventTarget {
  constructor() {
    super();
    this.handlers = new Map();
    this.sent = [];  // {name, payload, options, resolve, reject}
  }

  on(name, handler) {
    if (handler === null) this.handlers.delete(name);
    else this.handlers.set(name, handler);
    return this;
  }

  emit(name, payload, options) {
    return new Promise((resolve, reject) => {
      this.sent.push({ name, payload, options, resolve, reject });
    });
  }

  /** The oldest emit not taken yet (its name must be `name`, when given). */
  take(name) {
    assert.ok(this.sent.length > 0, `nothing sent${name ? ` (expected ${name})` : ''}`);
    const sent = this.sent.shift();
    if (name !== undefined) assert.equal(sent.name, name);
    return sent;
  }
}
