// Browser test of the gateway's GraphiQL Playground, as a person would use it:
// build the gateway, start it in demo mode (the built-in Workable simulator),
// open Playground in headless Debian Chromium driven by playwright-core, type a
// jobs query, run it, and check that the jobs from the response show up in the
// result pane. It also checks that the page works offline: every request the
// page makes goes to the gateway (anything else is aborted and fails the
// test), and the browser reports no Content-Security-Policy violation or
// script error.
//
// Run it with `bash e2e/run.sh` (installs Chromium and playwright-core when
// missing), `cd e2e && npm test`, or `node e2e/playground.test.mjs`.
// Settings: CHROMIUM_PATH (default /usr/bin/chromium); UPDATE_DOCS_SCREENSHOT=1
// also copies the screenshot to docs/playground.png for the README.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { access, constants, copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..');
const screenshotDir = path.join(here, 'screenshots');
const screenshotPath = path.join(screenshotDir, 'playground.png');
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

const QUERY = '{ jobs(first: 3) { nodes { shortcode title state } } }';

// Flags for Debian's Chromium on these machines: as root it needs
// --no-sandbox, and with no network the background services would only fail.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const BUILD_TIMEOUT_MS = 10 * 60_000;
const START_TIMEOUT_MS = 60_000;
const UI_TIMEOUT_MS = 30_000;

let workDir;
let gateway; // { child, baseURL, output() }
let browser;

before(async () => {
  await access(chromiumPath, constants.X_OK).catch(() => {
    throw new Error(`no Chromium at ${chromiumPath}: run "bash e2e/run.sh" (it installs Debian's chromium) or set CHROMIUM_PATH`);
  });
  workDir = await mkdtemp(path.join(tmpdir(), 'gateway-e2e-'));
  const binary = path.join(workDir, 'gateway');
  try {
    await promisify(execFile)('go', ['build', '-o', binary, '.'], {
      cwd: repoRoot,
      timeout: BUILD_TIMEOUT_MS,
      maxBuffer: 16 << 20,
    });
  } catch (err) {
    throw new Error(`go build of the gateway failed:\n${err.stderr || err.message}`);
  }
  gateway = await startGateway(binary);
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: CHROMIUM_ARGS,
  });
}, { timeout: BUILD_TIMEOUT_MS + START_TIMEOUT_MS + UI_TIMEOUT_MS });

after(async () => {
  // Each step runs even if an earlier one failed: the gateway must always stop.
  await browser?.close().catch((err) => console.error(`closing Chromium: ${err.message}`));
  if (gateway) await stopGateway(gateway.child);
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

test('Playground runs a jobs query in headless Chromium', { timeout: 3 * UI_TIMEOUT_MS }, async () => {
  const base = new URL(gateway.baseURL);
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);

  const problems = [];
  // Offline: the page may only talk to the gateway. Anything else is aborted
  // here, so the test would also fail on a machine that has internet access.
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'data:' || url.origin === base.origin) return route.continue();
    problems.push(`request outside the gateway: ${url.href}`);
    return route.abort('blockedbyclient');
  });
  page.on('pageerror', (err) => problems.push(`script error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  page.on('response', (resp) => {
    if (resp.status() >= 400) problems.push(`HTTP ${resp.status()} for ${resp.url()}`);
  });

  try {
    const resp = await page.goto(base.href, { waitUntil: 'load' });
    assert.equal(resp.status(), 200, `GET ${base.href}`);
    const csp = resp.headers()['content-security-policy'] ?? '';
    assert.match(csp, /script-src 'self'(;|$)/, `the page's Content-Security-Policy is ${JSON.stringify(csp)}`);

    // Type the query into GraphiQL's editor (CodeMirror) as a person would:
    // select all, then insert the text (insertText, unlike key presses, does
    // not trigger the editor's bracket auto-closing).
    const editor = page.locator('.graphiql-query-editor .CodeMirror');
    await editor.waitFor({ state: 'visible' });
    await editor.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(QUERY);
    const typed = await editor.evaluate((el) => el.CodeMirror.getValue());
    assert.equal(typed, QUERY, 'the query editor holds the typed query');

    const answered = page.waitForResponse((r) =>
      r.url() === new URL('/query', base).href &&
      r.request().method() === 'POST' &&
      (r.request().postData() ?? '').includes('jobs(first: 3)'));
    await page.getByRole('button', { name: /execute query/i }).click();
    const body = await (await answered).json();
    assert.equal(body.errors, undefined, `the jobs query answered errors: ${JSON.stringify(body.errors)}`);
    const shortcodes = (body.data?.jobs?.nodes ?? []).map((n) => n.shortcode);
    assert.ok(shortcodes.length > 0, `the jobs query returned no jobs: ${JSON.stringify(body)}`);

    try {
      await page.waitForFunction((codes) => {
        const pane = document.querySelector('.graphiql-response');
        return pane !== null && codes.every((c) => pane.textContent.includes(c));
      }, shortcodes);
    } catch (err) {
      const shown = await page.locator('.graphiql-response').textContent().catch(() => '(no result pane)');
      throw new Error(`the result pane never showed the shortcodes ${shortcodes.join(', ')}; it shows:\n${shown}`, { cause: err });
    }

    // Laid out on several lines, the query reads better in the screenshot.
    await page.getByRole('button', { name: /prettify query/i }).click();
    await page.waitForFunction(() =>
      document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.lineCount() > 1);
    await mkdir(screenshotDir, { recursive: true });
    await page.screenshot({ path: screenshotPath });
    console.log(`screenshot: ${path.relative(process.cwd(), screenshotPath)} (jobs ${shortcodes.join(', ')})`);
    if (process.env.UPDATE_DOCS_SCREENSHOT === '1') {
      await mkdir(path.join(repoRoot, 'docs'), { recursive: true });
      await copyFile(screenshotPath, path.join(repoRoot, 'docs', 'playground.png'));
      console.log('copied to docs/playground.png');
    }

    assert.deepEqual(problems, [], 'the page loaded cleanly from the gateway alone');
  } catch (err) {
    await mkdir(screenshotDir, { recursive: true });
    const failure = path.join(screenshotDir, 'failure.png');
    await page.screenshot({ path: failure }).catch(() => {});
    throw new Error(`${err.message}\n(screenshot of the page: ${failure}; problems seen: ${JSON.stringify(problems)};` +
      ` gateway output:\n${gateway.output()})`, { cause: err });
  } finally {
    await context.close();
  }
});

// startGateway runs the gateway binary in demo mode on a free port and waits
// for the line that tells where Playground is.
async function startGateway(binary) {
  const env = { ...process.env, PORT: '0' };
  // Demo mode, and nothing from the caller's environment that would leave it.
  for (const name of ['WORKABLE_SUBDOMAIN', 'WORKABLE_API_TOKEN', 'WORKABLE_BASE_URL', 'REDIS_URL']) {
    delete env[name];
  }
  const child = spawn(binary, [], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  // A crash of this script must not leave the gateway running.
  process.on('exit', () => child.kill('SIGKILL'));

  const lines = [];
  const output = () => lines.slice(-40).join('\n');
  child.stderr.setEncoding('utf8');
  createInterface({ input: child.stderr }).on('line', (l) => lines.push(`stderr: ${l}`));
  const stdout = createInterface({ input: child.stdout });

  const baseURL = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`the gateway printed no "GraphQL Playground: http://localhost:NNNN/" line within ${START_TIMEOUT_MS / 1000}s:\n${output()}`));
    }, START_TIMEOUT_MS);
    stdout.on('line', (l) => {
      lines.push(`stdout: ${l}`);
      const m = /GraphQL Playground: (http:\/\/localhost:\d+\/)/.exec(l);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`start the gateway: ${err.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the gateway exited (code ${code}, signal ${signal}) before serving:\n${output()}`));
    });
  }).catch(async (err) => {
    await stopGateway(child);
    throw err;
  });
  return { child, baseURL, output };
}

// stopGateway asks the gateway to shut down gracefully and kills it if it
// has not exited within 20 seconds.
async function stopGateway(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}
