// tests/browser/hub_runner.mjs: what the browser tests of msock programs share (run_rooms.mjs,
// run_topics.mjs against hub peers; run_inspector.mjs, run_todo.mjs against `msock hub` and
// `todo serve`): options, a program's process (its stdout lines, waits with a deadline, stdin
// commands, running one to its end), headless chromium with N pages in separate contexts,
// and the step loop that prints one line per step and "<title>: N passed, N failed". Exit 0
// when all passed, 1 otherwise, 2 for setup. Every wait has a deadline; nothing sleeps.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { parseArgs } from 'node:util';

export const STEP_DEADLINE_MS = 15000;
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--disable-quic'];

const startedAt = Date.now();
export const log = (line) =>
  console.log(`[${((Date.now() - startedAt) / 1000).toFixed(2)}s] ${line}`);

function setupFailure(script, message) {
  console.error(`${script}: ${message}`);
  process.exit(2);
}

/** Options: --<binFlag> (the program under test), --root, --chromium, --timeout-s, --only. */
function parseOptions(script, binFlag, binName) {
  let values;
  try {
    ({ values } = parseArgs({ options: {
      [binFlag]: { type: 'string' },
      root: { type: 'string' },
      chromium: { type: 'string', default: process.env.CHROMIUM ?? '/usr/bin/chromium' },
      'timeout-s': { type: 'string', default: process.env.MSOCK_BROWSER_TIMEOUT_S ?? '120' },
      only: { type: 'string' },
    } }));
  } catch (error) {
    setupFailure(script, `${error.message}\nusage: node ${script} --${binFlag} PATH --root ` +
      'REPO [--chromium PATH] [--timeout-s N] [--only step,step]');
  }
  if (!values[binFlag] || !existsSync(values[binFlag])) {
    setupFailure(script, `--${binFlag} must name the built ${binName}, got ${values[binFlag]}`);
  }
  if (!values.root || !existsSync(path.join(values.root, 'clients/js/rooms.js'))) {
    setupFailure(script, `--root must name the repository (with clients/js/rooms.js), got ` +
      `${values.root}`);
  }
  if (!existsSync(values.chromium)) {
    setupFailure(script, `${values.chromium} not found; run tools/setup-deps.sh (apt chromium)`);
  }
  const timeoutS = Number(values['timeout-s']);
  if (!(timeoutS > 0)) setupFailure(script, '--timeout-s must be a positive number');
  return { ...values, bin: values[binFlag], root: path.resolve(values.root), timeoutS,
    only: values.only?.split(',') ?? null };
}

export function check(condition, message) {
  if (!condition) throw new Error(message);
}

export function equal(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  check(a === e, `${what}: expected ${e}, got ${a}`);
}

/** Rejects with `what` if `promise` takes longer than `ms`. */
export function within(ms, promise, what) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
  })]).finally(() => clearTimeout(timer));
}

/** The peer process: its stdout lines, and waits for a line with a deadline. */
export class Peer {
  constructor(file, args) {
    this.lines = [];
    this.stderr = '';
    this.exit = null;
    this.watchers = new Set();
    this.child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    readline.createInterface({ input: this.child.stdout }).on('line', (line) => {
      this.lines.push(line);
      this.changed();
    });
    this.child.stderr.on('data', (data) => {
      this.stderr += data;
      this.changed();
    });
    this.child.on('exit', (code, signal) => {
      this.exit = { code, signal };
      this.changed();
    });
    this.child.on('error', (error) => {
      this.exit = { code: null, signal: null, error };
      this.changed();
    });
  }

  changed() {
    for (const watcher of [...this.watchers]) watcher();
  }

  /** Resolves with check()'s first truthy value; rejects after timeoutMs or on exit. */
  until(checkFn, timeoutMs, what) {
    return new Promise((resolve, reject) => {
      const done = (error, value) => {
        this.watchers.delete(watcher);
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(value);
      };
      const watcher = () => {
        const value = checkFn();
        if (value) done(null, value);
        else if (this.exit) {
          done(new Error(`${what}: the peer exited (${JSON.stringify(this.exit)})`));
        }
      };
      const timer = setTimeout(() => done(new Error(`${what}: not within ${timeoutMs} ms; ` +
        `peer lines: ${JSON.stringify(this.lines.slice(-20))}`)), timeoutMs);
      this.watchers.add(watcher);
      watcher();
    });
  }

  line(text, timeoutMs = 5000) {
    return this.until(() => this.lines.find((line) => line === text), timeoutMs,
      `peer line "${text}"`);
  }

  /**
   * Sends a command line and waits for the first line after it that `accept` returns truthy
   * for (default: any line).
   */
  command(text, accept = () => true, timeoutMs = 10000) {
    const from = this.lines.length;
    this.child.stdin.write(`${text}\n`);
    return this.until(() => this.lines.slice(from).find(accept), timeoutMs,
      `answer to "${text}"`);
  }

  /** Resolves with the exit ({code, signal}) within timeoutMs. */
  exited(timeoutMs = 10000) {
    return this.until(() => this.exit, timeoutMs, 'peer exit').catch((error) => {
      if (this.exit) return this.exit;
      throw error;
    });
  }

  /**
   * Ends a program that runs until SIGTERM: sends it (unless it has exited), waits for the exit
   * and resolves with it ({code, signal}); SIGKILL after timeoutMs.
   */
  async terminate(timeoutMs = 5000) {
    if (this.exit === null) this.child.kill('SIGTERM');
    try {
      return await this.exited(timeoutMs);
    } finally {
      this.kill();
    }
  }

  /** Ends the peer: closing its stdin asks it to close the hub and exit. */
  stop() {
    this.child.stdin.end();
  }

  kill() {
    if (this.exit === null) this.child.kill('SIGKILL');
  }
}

/** Runs `file args` to its end: {code, signal, lines, stderr}; rejects after timeoutMs. */
export async function runToEnd(file, args, timeoutMs = 10000) {
  const program = new Peer(file, args);
  program.stop();  // no input
  try {
    const exit = await program.exited(timeoutMs);
    return { ...exit, lines: program.lines, stderr: program.stderr };
  } finally {
    program.kill();
  }
}

/**
 * Runs a browser test: `start(options)` starts the program(s) under test and returns
 * {pageUrl, state, stop}; the page is opened in each of `pageNames` (separate browser
 * contexts) and `ready(page, name)` awaited; then `steps` ([name, async (state) => detail])
 * run in order with state {...state, <page name>: page}; then `stop()` (its failure fails the
 * run). Options: --<binFlag> PATH (options.bin), --root, --chromium, --timeout-s, --only.
 */
export async function runBrowserTest({ script, title, binFlag, binName, pageNames, start,
  ready, steps }) {
  const options = parseOptions(script, binFlag, binName);
  let browser = null;
  let started = null;
  let finishing = false;
  const finish = async (code, line) => {
    if (finishing) return;
    finishing = true;
    try {
      await within(10000, Promise.resolve(started?.stop()), 'stopping');
    } catch (error) {
      log(`FAIL ${error.message}`);
      code = 1;
    }
    await Promise.race([browser?.close(), new Promise((r) => setTimeout(r, 5000))]);
    console.log(line);
    process.exit(code);
  };
  try {
    let chromium;
    try {
      ({ chromium } = await import('playwright-core'));
    } catch (error) {
      setupFailure(script, `playwright-core missing (${error.message}); run ` +
        'tools/setup-deps.sh (it runs npm ci in tests/browser)');
    }
    setTimeout(() => {
      log(`FAIL global timeout: still running after ${options.timeoutS} s`);
      finish(1, `${title}: 0 passed, 1 failed`);
    }, options.timeoutS * 1000);

    started = await start(options);
    browser = await chromium.launch({ executablePath: options.chromium, headless: true,
      args: CHROMIUM_ARGS, timeout: 30000 });
    log(`chromium ${browser.version()} (${options.chromium})`);
    const pages = {};
    for (const name of pageNames) {
      const context = await browser.newContext();
      const page = await context.newPage();
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') {
          log(`  [page ${name} ${message.type()}] ${message.text()}`);
        }
      });
      page.on('pageerror', (error) => log(`  [page ${name} exception] ${error.message}`));
      await page.goto(started.pageUrl, { timeout: 15000 });
      await within(15000, ready(page, name), `page ${name} ready`);
      pages[name] = page;
    }
    log(pageNames.length > 1 ? `pages ${pageNames.join(' and ')} ready` : 'page ready');

    const state = { ...started.state, ...pages };
    let passed = 0;
    let failed = 0;
    for (const [name, run] of steps) {
      if (options.only && !options.only.includes(name)) continue;
      const begin = Date.now();
      try {
        const detail = await within(STEP_DEADLINE_MS, run(state), name);
        passed++;
        log(`ok   ${name} (${Date.now() - begin} ms) ${detail ?? ''}`);
      } catch (error) {
        failed++;
        log(`FAIL ${name} (${Date.now() - begin} ms) ${error?.message ?? error}`);
      }
    }
    log(`done in ${((Date.now() - startedAt) / 1000).toFixed(2)} s`);
    await finish(failed === 0 && passed > 0 ? 0 : 1,
      `${title}: ${passed} passed, ${failed} failed`);
  } catch (error) {
    log(`FAIL ${error.stack ?? error}`);
    await finish(1, `${title}: 0 passed, 1 failed`);
  }
}

/**
 * Runs a browser test against a hub peer: starts the peer (it prints "ready HUB-URL
 * PAGE-URL"), opens the page in each of `pageNames` and waits for `window[ready]` (or
 * `window[loadError]`), then runs `steps` with state {peer, hubUrl, <page name>: page}.
 */
export function runHubTest({ script, title, peerName, pageNames, ready, loadError, steps }) {
  return runBrowserTest({ script, title, binFlag: 'peer', binName: peerName, pageNames, steps,
    start: async (options) => {
      const peer = new Peer(options.bin, ['--root', options.root, '--lifetime-s',
        String(Math.ceil(options.timeoutS) + 30)]);
      const stop = () => {
        peer.kill();
        if (peer.stderr) log(`peer stderr:\n${peer.stderr.trimEnd()}`);
      };
      try {
        const readyLine = await peer.until(() => peer.lines.find((l) =>
          l.startsWith('ready ')), 10000, 'peer ready line');
        const [, hubUrl, pageUrl] = readyLine.split(' ');
        log(`hub ${hubUrl}, page ${pageUrl}`);
        return { pageUrl, state: { peer, hubUrl }, stop };
      } catch (error) {
        stop();
        throw error;
      }
    },
    ready: async (page, name) => {
      await page.waitForFunction(([r, e]) => window[r] || window[e], [ready, loadError],
        { timeout: 15000 });
      const failure = await page.evaluate((e) => window[e], loadError);
      if (failure) throw new Error(`page ${name} failed to load the client: ${failure}`);
    },
  });
}
