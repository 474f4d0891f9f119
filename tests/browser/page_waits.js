// tests/browser/page_waits.js: what the test pages (rooms_page.html, topics_page.html) share:
// waiting for a condition on what a page received, with a deadline and no polling. A page
// calls changed() whenever its state changes; until() checks again then.

export class Waits {
  constructor() {
    this.watchers = new Set();
  }

  /** Re-checks every pending until(). */
  changed() {
    for (const watcher of [...this.watchers]) watcher();
  }

  /** What the page has, for the message of a wait that timed out. */
  state() {
    return '';
  }

  /** Resolves with check()'s first truthy value; rejects after timeoutMs. */
  until(check, timeoutMs, what) {
    return new Promise((resolve, reject) => {
      const watcher = () => {
        const value = check();
        if (!value) return;
        this.watchers.delete(watcher);
        clearTimeout(timer);
        resolve(value);
      };
      const timer = setTimeout(() => {
        this.watchers.delete(watcher);
        reject(new Error(`${what}: not within ${timeoutMs} ms; ${this.state()}`));
      }, timeoutMs);
      this.watchers.add(watcher);
      watcher();
    });
  }
}
