// Subscriptions with real clients from npm: graphql-ws (the graphql-transport-ws
// protocol over a WebSocket) and graphql-sse (GraphQL over Server-Sent Events,
// distinct connections mode), subscribed to replica B of a two-replica
// deployment (one Redis, one Workable account: the gateway's own simulator run
// alone). They receive a move made by a hiring action through replica A, and a
// signed Workable webhook delivered to replica A; an unsigned one is refused
// and reaches nobody.
//
// Needs Redis: REDIS_URL (default redis://127.0.0.1:6379/0); every run uses a
// key prefix of its own. Run it with `bash e2e/run.sh`, `cd e2e && npm test`,
// or `node --test e2e/subscriptions.test.mjs`.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

import { createClient as createWSClient } from 'graphql-ws';
import { createClient as createSSEClient } from 'graphql-sse';
import WebSocket from 'ws';

import { BUILD_TIMEOUT_MS, START_TIMEOUT_MS, buildGateway, repoRoot, startGateway, stopGateway } from './gateway.mjs';

const EVENT_TIMEOUT_MS = 15_000;
const MEMBER_ID = '13e0eb0e'; // the simulator's first admin, the acting member of the moves

const BOARD = `subscription Board($job: String) {
  candidateEvents(jobShortcode: $job) { id kind source stage jobShortcode candidate { id stage } }
}`;

let workDir;
let simulator; // { child, baseURL, subdomain, token }
let replicaA;
let replicaB;

// startSimulator runs `gateway simulator` on a free port and reads its address,
// subdomain and token from the line it prints.
async function startSimulator(binary) {
  const child = spawn(binary, ['simulator', '-addr', '127.0.0.1:0'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  process.on('exit', () => child.kill('SIGKILL'));
  const line = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the simulator printed no address')), START_TIMEOUT_MS);
    createInterface({ input: child.stdout }).on('line', (l) => {
      if (/listening on http/.test(l)) {
        clearTimeout(timer);
        resolve(l);
      }
    });
    child.once('exit', (code) => reject(new Error(`the simulator exited (code ${code})`)));
  });
  const m = /listening on (http:\/\/\S+\/spi\/v3\/) \(subdomain (\S+), token (\S+)\)/.exec(line);
  assert.ok(m, `unexpected simulator line: ${line}`);
  return { child, baseURL: m[1], subdomain: m[2], token: m[3] };
}

before(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'gateway-e2e-subs-'));
  const binary = await buildGateway(workDir);
  simulator = await startSimulator(binary);
  const env = {
    WORKABLE_SUBDOMAIN: simulator.subdomain,
    WORKABLE_API_TOKEN: simulator.token,
    WORKABLE_BASE_URL: simulator.baseURL,
    WORKABLE_MEMBER_ID: MEMBER_ID,
    REDIS_URL: process.env.REDIS_URL || 'redis://127.0.0.1:6379/0',
    CACHE_PREFIX: `e2e-subs-${randomBytes(6).toString('hex')}:`,
    CREDENTIALS_KEY: randomBytes(32).toString('base64'),
    HOST: '127.0.0.1',
    // The refresher would publish events of its own (its first walk reports
    // every candidate it has not seen): these tests count events exactly.
    REFRESH_ENABLED: 'false',
    // The simulator run alone has no rate limit: the tests need not wait for
    // Workable's 10 calls per 10 s.
    WORKABLE_RATE_LIMIT: '1000',
  };
  replicaA = await startGateway(binary, env);
  replicaB = await startGateway(binary, env);
}, { timeout: BUILD_TIMEOUT_MS + 3 * START_TIMEOUT_MS });

after(async () => {
  for (const g of [replicaA, replicaB]) {
    if (g) await stopGateway(g.child);
  }
  if (simulator) {
    simulator.child.kill('SIGTERM');
    await once(simulator.child, 'exit').catch(() => {});
  }
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

// gql POSTs a GraphQL request to a replica and returns its data (errors fail).
async function gql(replica, query, variables) {
  const res = await fetch(new URL('query', replica.baseURL), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  assert.equal(body.errors, undefined, `${query}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

// liveSubscriptions reads gateway_subscriptions from a replica's /metrics.
async function liveSubscriptions(replica) {
  const text = await (await fetch(new URL('metrics', replica.baseURL))).text();
  const m = /^gateway_subscriptions (\d+)$/m.exec(text);
  return m ? Number(m[1]) : -1;
}

// waitForSubscriptions waits until a replica has n live subscriptions: a
// client's subscribe reaches the gateway on its own time, and an event
// published before it is not for it.
async function waitForSubscriptions(replica, n) {
  const deadline = Date.now() + EVENT_TIMEOUT_MS;
  for (;;) {
    const live = await liveSubscriptions(replica);
    if (live === n) return;
    if (Date.now() > deadline) throw new Error(`replica has ${live} live subscriptions, want ${n}:\n${replica.output()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

// eventQueue collects a subscription's results; next() waits for the next one.
function eventQueue(name) {
  const results = [];
  const waiters = [];
  let failure;
  const push = (r) => (waiters.length ? waiters.shift().resolve(r) : results.push(r));
  return {
    sink: {
      next: push,
      error: (err) => {
        failure = err instanceof Error ? err : new Error(JSON.stringify(err));
        while (waiters.length) waiters.shift().reject(failure);
      },
      complete: () => {},
    },
    next() {
      if (results.length) return Promise.resolve(results.shift());
      if (failure) return Promise.reject(failure);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name}: no event within ${EVENT_TIMEOUT_MS} ms`)), EVENT_TIMEOUT_MS);
        waiters.push({
          resolve: (r) => { clearTimeout(timer); resolve(r); },
          reject: (e) => { clearTimeout(timer); reject(e); },
        });
      });
    },
  };
}

// subscribeBoth subscribes to the board of job on replica B with graphql-ws
// and graphql-sse, and waits until both are live.
async function subscribeBoth(job) {
  const ws = createWSClient({ url: new URL('query', replicaB.baseURL).href.replace(/^http/, 'ws'), webSocketImpl: WebSocket, lazy: false, retryAttempts: 0 });
  const sse = createSSEClient({ url: new URL('query', replicaB.baseURL).href, retryAttempts: 0 });
  const overWS = eventQueue('graphql-ws');
  const overSSE = eventQueue('graphql-sse');
  const stops = [
    ws.subscribe({ query: BOARD, variables: { job } }, overWS.sink),
    sse.subscribe({ query: BOARD, variables: { job } }, overSSE.sink),
  ];
  await waitForSubscriptions(replicaB, 2);
  return {
    clients: { 'graphql-ws': overWS, 'graphql-sse': overSSE },
    async close() {
      for (const stop of stops) stop();
      await ws.dispose();
      sse.dispose();
      await waitForSubscriptions(replicaB, 0);
    },
  };
}

// appliedCandidate returns a qualified candidate in the Applied stage and its job.
async function appliedCandidate(skip = new Set()) {
  const data = await gql(replicaA, '{ jobs(first: 10) { nodes { shortcode candidates(first: 100) { nodes { id stage disqualified } } } } }');
  for (const job of data.jobs.nodes) {
    for (const c of job.candidates.nodes) {
      if (c.stage === 'Applied' && !c.disqualified && !skip.has(c.id)) return { id: c.id, job: job.shortcode };
    }
  }
  throw new Error('no qualified candidate in Applied');
}

test('graphql-ws and graphql-sse on replica B receive a move made by a hiring action through replica A', { timeout: 4 * EVENT_TIMEOUT_MS }, async () => {
  const cand = await appliedCandidate();
  const board = await subscribeBoth(cand.job);
  try {
    const moved = await gql(replicaA, `mutation($in: MoveCandidateInput!) { moveCandidate(input: $in) { candidate { stage } userErrors { code message } } }`,
      { in: { id: cand.id, toStage: 'interview' } });
    assert.deepEqual(moved.moveCandidate.userErrors, []);
    for (const [name, q] of Object.entries(board.clients)) {
      const r = await q.next();
      assert.equal(r.errors, undefined, `${name}: ${JSON.stringify(r.errors)}`);
      const ev = r.data.candidateEvents;
      assert.equal(ev.kind, 'MOVED', name);
      assert.equal(ev.source, 'GATEWAY', name);
      assert.equal(ev.jobShortcode, cand.job, name);
      assert.equal(ev.stage, 'Interview', name);
      assert.deepEqual(ev.candidate, { id: cand.id, stage: 'Interview' }, `${name}: the candidate as it is after the move`);
    }
  } finally {
    await board.close();
  }
});

test('a signed webhook delivered to replica A reaches the subscribers on replica B; an unsigned one is refused and reaches nobody', { timeout: 4 * EVENT_TIMEOUT_MS }, async () => {
  const cand = await appliedCandidate();
  const board = await subscribeBoth(cand.job);
  const deliver = (id, signature) => {
    const body = JSON.stringify({
      id, event_type: 'candidate_moved', fired_at: new Date().toISOString(), resource_type: 'candidate',
      data: { id: cand.id, job: { shortcode: cand.job }, stage: 'Phone Screen' },
    });
    const sig = signature ?? createHmac('sha256', simulator.token).update(body).digest('hex');
    return fetch(new URL('webhooks/workable/default', replicaA.baseURL), {
      method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Workable-Signature': sig }, body,
    });
  };
  try {
    const unsigned = await deliver(`e2e-unsigned-${randomBytes(4).toString('hex')}`, '00'.repeat(32));
    assert.equal(unsigned.status, 401, 'a delivery with a wrong signature');
    const signedID = `e2e-signed-${randomBytes(4).toString('hex')}`;
    const signed = await deliver(signedID);
    assert.equal(signed.status, 200, `a signed delivery: ${await signed.text()}`);
    for (const [name, q] of Object.entries(board.clients)) {
      const r = await q.next();
      assert.equal(r.errors, undefined, `${name}: ${JSON.stringify(r.errors)}`);
      const ev = r.data.candidateEvents;
      // The first event is the signed one: the unsigned delivery published nothing.
      assert.equal(ev.id, signedID, `${name}: the first event is the signed delivery`);
      assert.equal(ev.source, 'WEBHOOK', name);
      assert.equal(ev.kind, 'MOVED', name);
      assert.equal(ev.stage, 'Phone Screen', name);
      assert.equal(ev.candidate.id, cand.id, name);
    }
  } finally {
    await board.close();
  }
});
