// Incremental delivery (@defer) tested with real GraphQL client libraries
// against the gateway binary in demo mode: urql (@urql/core, whose fetch
// exchange reads multipart/mixed incremental responses, as Apollo Client and
// Relay clients do) and graphql-sse (the GraphQL over Server-Sent Events
// client), plus a plain JSON client that accepts neither and must get one
// complete answer.
//
// The demo gateway keeps to Workable's 10 requests per 10 s, so the deferred
// page below (1 list call, then a detail call and an activities call per
// candidate) cannot be served in one window: its first parts follow the list
// at once and the last ones only when the budget admits their calls.
//
// Run with `bash e2e/run.sh` or `cd e2e && npm test`.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { Client, fetchExchange } from '@urql/core';
import { createClient as createSSEClient } from 'graphql-sse';

import { BUILD_TIMEOUT_MS, START_TIMEOUT_MS, buildGateway, startGateway, stopGateway } from './gateway.mjs';

const TEST_TIMEOUT_MS = 60_000;

let workDir;
let gateway; // { child, baseURL, output() }
let endpoint;

before(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'gateway-e2e-incremental-'));
  gateway = await startGateway(await buildGateway(workDir));
  endpoint = new URL('/query', gateway.baseURL).href;
}, { timeout: BUILD_TIMEOUT_MS + START_TIMEOUT_MS });

after(async () => {
  if (gateway) await stopGateway(gateway.child);
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

// The tests run one after another and share the demo budget: the cheap ones
// first, the page that needs more than a window last.

test('a JSON-only client gets the deferred fields in one complete answer', { timeout: TEST_TIMEOUT_MS }, async () => {
  const resp = await fetch(endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ query: '{ job(shortcode: "GROOV005") { title ... @defer { description } } }' }),
  });
  assert.match(resp.headers.get('content-type') ?? '', /json/);
  const body = await resp.json();
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  assert.equal(body.hasNext, undefined, 'a complete answer announces no further parts');
  assert.ok(body.data.job.title && body.data.job.description, `the deferred description is missing: ${JSON.stringify(body)}`);
});

test('graphql-sse receives the list, then the deferred part, over Server-Sent Events', { timeout: TEST_TIMEOUT_MS }, async () => {
  const client = createSSEClient({ url: endpoint });
  const results = [];
  try {
    for await (const result of client.iterate({ query: '{ job(shortcode: "GROOV004") { title ... @defer { description } } }' })) {
      results.push(result);
    }
  } finally {
    client.dispose();
  }
  assert.equal(results.length, 2, `want the initial result and one deferred part, got ${JSON.stringify(results)}`);
  const [first, part] = results;
  assert.equal(first.hasNext, true);
  assert.ok(first.data.job.title, 'the initial result has the job title');
  assert.equal(first.data.job.description, null, 'the deferred field is pending in the initial result');
  assert.deepEqual(part.path, ['job']);
  assert.equal(part.hasNext, false);
  assert.ok(part.data.description, `the deferred part lacks the description: ${JSON.stringify(part)}`);
});

test('urql receives a deferred page over multipart/mixed as the budget admits it', { timeout: TEST_TIMEOUT_MS }, async () => {
  const contentTypes = [];
  const client = new Client({
    url: endpoint,
    exchanges: [fetchExchange],
    requestPolicy: 'network-only',
    fetch: async (url, init) => {
      const resp = await fetch(url, init);
      contentTypes.push(resp.headers.get('content-type'));
      return resp;
    },
  });
  const query = `{ candidates(first: 6) { nodes { id name ... @defer { tags activities(first: 3) { nodes { action } } } } } }`;
  // The subscription is left to end with the response: unsubscribing
  // would abort urql's read of the closing boundary.
  const results = await new Promise((resolve, reject) => {
    const seen = [];
    client.query(query, {}).subscribe((result) => {
      seen.push(result);
      if (result.error) {
        reject(new Error(`urql reported ${result.error.message}`));
      } else if (!result.hasNext) {
        resolve(seen);
      }
    });
  });
  assert.match(contentTypes[0] ?? '', /^multipart\/mixed/, 'the gateway answered in parts');

  const nodes = (r) => r.data.candidates.nodes;
  const filled = (r) => nodes(r).filter((n) => Array.isArray(n.tags) && n.activities !== null && n.activities !== undefined).length;
  const [first] = results;
  assert.equal(nodes(first).length, 6, 'the list arrives whole in the first result');
  assert.ok(nodes(first).every((n) => n.id && n.name), 'with every list field');
  assert.ok(filled(first) < 6, 'the deferred fields are still pending in the first result');
  const last = results[results.length - 1];
  assert.equal(filled(last), 6, `every candidate's deferred fields arrive in the end: ${JSON.stringify(last.data)}`);
  // The page needs 13 calls and the demo budget is 10 per 10 s: the deferred
  // parts come in more than one delivery after the list.
  assert.ok(results.length >= 3, `the deferred parts came in ${results.length - 1} delivery, want several`);
  for (let i = 1; i < results.length; i++) {
    assert.ok(filled(results[i]) >= filled(results[i - 1]), 'each delivery adds to what urql has merged so far');
  }
});
