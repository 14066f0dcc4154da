// Browser test of the gateway's GraphiQL Playground, as a person would use it:
// build the gateway, start it in demo mode (the built-in Workable simulator),
// open Playground in headless Debian Chromium driven by playwright-core, type a
// jobs query, run it, and check that the jobs from the response show up in the
// result pane; then run a query with @defer and check that the deferred field
// shows up once its part arrives; then subscribe to candidate events and check
// that a move made meanwhile shows up. It also checks that the page works offline: every request the
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
import { access, constants, copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { BUILD_TIMEOUT_MS, START_TIMEOUT_MS, buildGateway, repoRoot, startGateway, stopGateway } from './gateway.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
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

const UI_TIMEOUT_MS = 30_000;

let workDir;
let gateway; // { child, baseURL, output() }
let browser;

before(async () => {
  await access(chromiumPath, constants.X_OK).catch(() => {
    throw new Error(`no Chromium at ${chromiumPath}: run "bash e2e/run.sh" (it installs Debian's chromium) or set CHROMIUM_PATH`);
  });
  workDir = await mkdtemp(path.join(tmpdir(), 'gateway-e2e-'));
  gateway = await startGateway(await buildGateway(workDir));
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
  const { context, page, problems } = await openPlayground(base);

  try {
    await typeQuery(page, QUERY);

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
    throw await failed(page, err, problems);
  } finally {
    await context.close();
  }
});

// DEFERRED is a query whose job description is delivered in a later part
// (@defer): GraphiQL's fetcher accepts multipart/mixed, and the gateway
// answers a query using @defer in parts.
const DEFERRED = '{ job(shortcode: "GROOV005") { title ... @defer { description } } }';

test('Playground shows the deferred part of a @defer query', { timeout: 3 * UI_TIMEOUT_MS }, async () => {
  const base = new URL(gateway.baseURL);
  // What the deferred field holds, asked without @defer.
  const plain = await (await fetch(new URL('/query', base), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ query: '{ job(shortcode: "GROOV005") { title description } }' }),
  })).json();
  const { title, description } = plain.data?.job ?? {};
  assert.ok(title && description, `the job has no title or description: ${JSON.stringify(plain)}`);
  // A stretch of plain words, as the result pane shows it inside a JSON string.
  const words = description.replace(/<[^>]*>/g, ' ').trim().slice(0, 40);

  const { context, page, problems } = await openPlayground(base);
  try {
    await typeQuery(page, DEFERRED);
    const answered = page.waitForResponse((r) =>
      r.url() === new URL('/query', base).href &&
      r.request().method() === 'POST' &&
      (r.request().postData() ?? '').includes('@defer'));
    await page.getByRole('button', { name: /execute query/i }).click();
    const resp = await answered;
    assert.match(resp.headers()['content-type'] ?? '', /^multipart\/mixed/, 'the deferred query is answered in parts');
    try {
      await page.waitForFunction(([t, w]) => {
        const pane = document.querySelector('.graphiql-response');
        return pane !== null && pane.textContent.includes(t) && pane.textContent.includes(w);
      }, [title, words]);
    } catch (err) {
      const shown = await page.locator('.graphiql-response').textContent().catch(() => '(no result pane)');
      throw new Error(`the result pane never showed the deferred description ${JSON.stringify(words)}; it shows:\n${shown}`, { cause: err });
    }
    const shown = await page.locator('.graphiql-response').textContent();
    assert.ok(!shown.includes('"description": null'), `the result pane still shows the deferred field as null:\n${shown}`);
    assert.ok(!shown.includes('hasNext'), `the result pane shows the raw parts instead of the merged result:\n${shown}`);
    assert.deepEqual(problems, [], 'the page ran the deferred query cleanly');
  } catch (err) {
    throw await failed(page, err, problems);
  } finally {
    await context.close();
  }
});

test('Playground subscribes over its WebSocket and shows a candidate moved meanwhile', { timeout: 3 * UI_TIMEOUT_MS }, async () => {
  const base = new URL(gateway.baseURL);
  const post = async (query, variables) => {
    const body = await (await fetch(new URL('/query', base), {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ query, variables }),
    })).json();
    assert.equal(body.errors, undefined, `${query}: ${JSON.stringify(body.errors)}`);
    return body.data;
  };
  const jobs = await post('{ jobs(first: 3) { nodes { shortcode candidates(first: 50) { nodes { id name stage disqualified } } } } }');
  let cand;
  for (const job of jobs.jobs.nodes) {
    cand ??= job.candidates.nodes.map((c) => ({ ...c, job: job.shortcode })).find((c) => c.stage === 'Applied' && !c.disqualified);
  }
  assert.ok(cand, 'a qualified candidate in Applied');

  const { context, page, problems } = await openPlayground(base);
  try {
    await typeQuery(page, `subscription { candidateEvents(jobShortcode: "${cand.job}") { kind source candidate { name stage } } }`);
    await page.getByRole('button', { name: /execute query/i }).click();
    // The subscription is live once the gateway counts it.
    for (const deadline = Date.now() + UI_TIMEOUT_MS; ;) {
      const metrics = await (await fetch(new URL('/metrics', base))).text();
      if (/^gateway_subscriptions 1$/m.test(metrics)) break;
      assert.ok(Date.now() < deadline, 'the gateway never counted the Playground subscription');
      await new Promise((r) => setTimeout(r, 50));
    }
    const moved = await post('mutation($in: MoveCandidateInput!) { moveCandidate(input: $in) { userErrors { message } } }',
      { in: { id: cand.id, toStage: 'interview' } });
    assert.deepEqual(moved.moveCandidate.userErrors, []);
    try {
      await page.waitForFunction((name) => {
        const pane = document.querySelector('.graphiql-response');
        return pane !== null && pane.textContent.includes('MOVED') && pane.textContent.includes(name) &&
          pane.textContent.includes('Interview');
      }, cand.name);
    } catch (err) {
      const shown = await page.locator('.graphiql-response').textContent().catch(() => '(no result pane)');
      throw new Error(`the result pane never showed the move of ${cand.name}; it shows:\n${shown}`, { cause: err });
    }
    assert.deepEqual(problems, [], 'the page subscribed cleanly');
  } catch (err) {
    throw await failed(page, err, problems);
  } finally {
    await context.close();
  }
});

// openPlayground opens Playground in a fresh browser context that may talk
// to the gateway only, and collects the problems the page meets.
async function openPlayground(base) {
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

  const resp = await page.goto(base.href, { waitUntil: 'load' });
  assert.equal(resp.status(), 200, `GET ${base.href}`);
  const csp = resp.headers()['content-security-policy'] ?? '';
  assert.match(csp, /script-src 'self'(;|$)/, `the page's Content-Security-Policy is ${JSON.stringify(csp)}`);
  return { context, page, problems };
}

// typeQuery types q into GraphiQL's editor (CodeMirror) as a person would:
// select all, then insert the text (insertText, unlike key presses, does not
// trigger the editor's bracket auto-closing).
async function typeQuery(page, q) {
  const editor = page.locator('.graphiql-query-editor .CodeMirror');
  await editor.waitFor({ state: 'visible' });
  await editor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(q);
  const typed = await editor.evaluate((el) => el.CodeMirror.getValue());
  assert.equal(typed, q, 'the query editor holds the typed query');
}

// failed saves a screenshot of the page and returns err with it, the
// problems seen and the gateway's output.
async function failed(page, err, problems) {
  await mkdir(screenshotDir, { recursive: true });
  const failure = path.join(screenshotDir, 'failure.png');
  await page.screenshot({ path: failure }).catch(() => {});
  return new Error(`${err.message}\n(screenshot of the page: ${failure}; problems seen: ${JSON.stringify(problems)};` +
    ` gateway output:\n${gateway.output()})`, { cause: err });
}
