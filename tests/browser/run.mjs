#!/usr/bin/env node
// tests/browser/run.mjs: drives Debian's chromium (through playwright-core) through the cases
// in cases.mjs against real SP ws peers, prints one line per case and a closing
// "browser: N passed, N failed, N skipped" line; exit 0 when none failed, 1 otherwise.
//
//   node run.mjs --ws-base ws://127.0.0.1:PORT          # peers at /rep, /pub, /pair1, ...
//   node run.mjs --rep URL --pub URL [--pair1 URL] ...  # or each URL on its own
//   node run.mjs --page http://127.0.0.1:PORT/tests/browser/page.html --ws-base ...
//
// Without --page it serves the repository's clients/js and tests/browser itself over http on
// 127.0.0.1 (a free port); with --page the given server must serve both at the same relative
// layout (or pass ?client=URL of msock.js in the page URL). Cases whose URL is missing are
// skipped. Everything is bounded by --timeout-s (default 120).

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const SERVED_DIRS = ['clients/js', 'tests/browser'];
const URL_KEYS = ['rep', 'pub', 'pubtext', 'pair0', 'pair1', 'pair0text'];
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--disable-quic'];
const CONTENT_TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript',
  '.mjs': 'text/javascript', '.json': 'application/json', '.md': 'text/plain; charset=utf-8' };

const startedAt = Date.now();
const log = (line) => console.log(`[${((Date.now() - startedAt) / 1000).toFixed(2)}s] ${line}`);

/** Prints the closing line and exits; only the first call (global timeout or end) counts. */
let finishing = false;
function finish(code, closingLine) {
  if (finishing) return;
  finishing = true;
  console.log(closingLine);
  process.exit(code);
}

function usage(message) {
  console.error(`run.mjs: ${message}\nusage: node run.mjs [--page URL] [--ws-base ws://H:P] ` +
    `[--${URL_KEYS.join(' URL] [--')} URL] [--chromium PATH] [--timeout-s N] ` +
    '[--peer nng|msock] [--only case,case] [--screenshot FILE.png]');
  process.exit(2);
}

function parseOptions() {
  const urlOptions = Object.fromEntries(URL_KEYS.map((key) => [key, { type: 'string' }]));
  let values;
  try {
    ({ values } = parseArgs({ options: {
      ...urlOptions,
      page: { type: 'string' },
      'ws-base': { type: 'string' },
      chromium: { type: 'string', default: process.env.CHROMIUM ?? '/usr/bin/chromium' },
      'timeout-s': { type: 'string', default: '120' },
      only: { type: 'string' },
      // Which implementation listens: the cases where NNG and msock differ on purpose run
      // only against the one they describe (they need the key peer_nng or peer_msock).
      peer: { type: 'string', default: 'nng' },
      screenshot: { type: 'string' },
    } }));
  } catch (error) {
    usage(error.message);
  }
  const urls = {};
  if (values['ws-base']) {
    const base = values['ws-base'].replace(/\/+$/, '');
    for (const key of URL_KEYS) urls[key] = `${base}/${key}`;
  }
  for (const key of URL_KEYS) if (values[key]) urls[key] = values[key];
  if (values.peer !== 'nng' && values.peer !== 'msock') usage('--peer must be nng or msock');
  urls[`peer_${values.peer}`] = values.peer;
  if (!urls.rep && !urls.pub) usage('give --ws-base, or at least --rep or --pub');
  const timeoutS = Number(values['timeout-s']);
  if (!(timeoutS > 0)) usage('--timeout-s must be a positive number');
  return { ...values, urls, timeoutS, only: values.only?.split(',') ?? null };
}

/** Serves SERVED_DIRS of the repository on 127.0.0.1, read-only. Resolves with the server. */
function serveRepository() {
  const server = http.createServer(async (request, response) => {
    const fail = (code) => {
      response.writeHead(code, { 'content-type': 'text/plain' });
      response.end(`${code}\n`);
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') return fail(405);
    let relative;
    try {
      relative = decodeURIComponent(new URL(request.url, 'http://x').pathname).slice(1);
    } catch {
      return fail(400);
    }
    const file = path.resolve(REPO, relative);
    const allowed = SERVED_DIRS.some((dir) => file.startsWith(path.join(REPO, dir) + path.sep));
    if (!allowed || file.includes(`${path.sep}node_modules${path.sep}`)) return fail(404);
    try {
      if (!(await stat(file)).isFile()) return fail(404);
    } catch {
      return fail(404);
    }
    response.writeHead(200, { 'content-type': CONTENT_TYPES[path.extname(file)] ??
      'application/octet-stream', 'cache-control': 'no-store' });
    if (request.method === 'HEAD') return response.end();
    createReadStream(file).pipe(response);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

async function main() {
  const options = parseOptions();
  let browser = null;
  let server = null;
  const cleanup = async () => {
    await Promise.race([browser?.close(), new Promise((r) => setTimeout(r, 5000))]);
    server?.close();
  };
  const globalTimer = setTimeout(async () => {
    log(`FAIL global timeout: still running after ${options.timeoutS} s`);
    const closingLine = 'browser: 0 passed, 1 failed';
    finishing = true;  // what fails in main() while the browser closes is not reported
    await cleanup();
    finishing = false;
    finish(1, closingLine);
  }, options.timeoutS * 1000);

  let pageUrl = options.page;
  if (!pageUrl) {
    server = await serveRepository();
    pageUrl = `http://127.0.0.1:${server.address().port}/tests/browser/page.html`;
  }
  log(`page ${pageUrl}`);
  for (const key of URL_KEYS) if (options.urls[key]) log(`${key} ${options.urls[key]}`);

  browser = await chromium.launch({ executablePath: options.chromium, headless: true,
    args: CHROMIUM_ARGS, timeout: 30000 });
  log(`chromium ${browser.version()} (${options.chromium})`);
  const page = await browser.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') {
      log(`  [page ${message.type()}] ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => log(`  [page exception] ${error.message}`));
  await page.goto(pageUrl, { timeout: 15000 });
  log('page loaded');
  await page.waitForFunction(() => window.msockCases || window.msockLoadError,
    null, { timeout: 15000 });
  const loadError = await page.evaluate(() => window.msockLoadError);
  if (loadError) throw new Error(`page failed to load the client: ${loadError}`);
  const cases = await page.evaluate(() => window.msockCases);
  log(`page ready: ${cases.length} cases`);

  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const { name, keys } of cases) {
    if (options.only && !options.only.includes(name)) continue;
    const missing = keys.filter((key) => !options.urls[key]);
    if (missing.length > 0) {
      skipped++;
      log(`skip ${name} (no --${missing.join(', --')} URL)`);
      continue;
    }
    const result = await page.evaluate(([n, urls]) => window.msockRunCase(n, urls),
      [name, options.urls]);
    if (result.ok) {
      passed++;
      log(`ok   ${name} (${result.ms} ms) ${result.detail}`);
    } else {
      failed++;
      log(`FAIL ${name} (${result.ms} ms) ${result.error}`);
    }
  }
  if (options.screenshot) await page.screenshot({ path: options.screenshot });
  clearTimeout(globalTimer);
  await cleanup();
  log(`done in ${((Date.now() - startedAt) / 1000).toFixed(2)} s`);
  finish(failed === 0 && passed > 0 ? 0 : 1,
    `browser: ${passed} passed, ${failed} failed, ${skipped} skipped`);
}

main().catch((error) => {
  if (finishing) return;
  log(`FAIL ${error.stack ?? error}`);
  finish(1, 'browser: 0 passed, 1 failed');
});
