// Relay against the gateway, end to end: fetch the schema from the demo
// gateway's GET /schema.graphql, compile a small Relay project (relay/) with
// relay-compiler and nodeInterfaceIdField "globalId" (which validates the
// schema's Node interface and Query.node for Relay, and generates the
// refetch query of a @refetchable fragment), then run the generated
// operations with relay-runtime's store against the gateway: a backward
// page of the newest candidates, the previous page (loadPrevious's
// last/before), and the refetch of one candidate by its global id.
//
// Run it with `bash e2e/run.sh` or `cd e2e && node --test relay.test.mjs`.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { BUILD_TIMEOUT_MS, START_TIMEOUT_MS, buildGateway, startGateway, stopGateway } from './gateway.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const project = path.join(here, 'relay');
const require = createRequire(import.meta.url);
const {
  Environment, Network, RecordSource, Store, createOperationDescriptor, fetchQuery, getSelector,
} = require('relay-runtime');

let workDir;
let gateway;

before(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'gateway-relay-'));
  gateway = await startGateway(await buildGateway(workDir));
}, { timeout: BUILD_TIMEOUT_MS + START_TIMEOUT_MS });

after(async () => {
  if (gateway) await stopGateway(gateway.child);
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

// environment returns a Relay environment whose network posts to the
// gateway, counting the requests.
function environment(counter) {
  const url = new URL('query', gateway.baseURL).href;
  const network = Network.create(async (params, variables) => {
    counter.requests++;
    const resp = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/graphql-response+json, application/json' },
      body: JSON.stringify({ query: params.text, variables }),
    });
    const body = await resp.json();
    if (body.errors) throw new Error(`${params.name}: ${JSON.stringify(body.errors)}`);
    return body;
  });
  return new Environment({ network, store: new Store(new RecordSource()) });
}

// readFragment reads the data of fragment for the fragment reference ref.
function readFragment(env, fragment, ref) {
  return env.lookup(getSelector(fragment, ref)).data;
}

test('relay-compiler validates the schema and a @refetchable fragment, and the generated operations run', { timeout: 120_000 }, async () => {
  // The schema, as tooling fetches it.
  const resp = await fetch(new URL('schema.graphql', gateway.baseURL));
  assert.equal(resp.status, 200, 'GET /schema.graphql');
  const sdl = await resp.text();
  assert.match(sdl, /interface Node \{/);
  assert.doesNotMatch(sdl, /goField/, "gqlgen's directive is not part of the public schema");
  await writeFile(path.join(project, 'schema.graphql'), sdl);

  const compiler = require.resolve('relay-compiler/cli.js');
  try {
    await promisify(execFile)(process.execPath, [compiler], { cwd: project, timeout: 60_000 });
  } catch (err) {
    throw new Error(`relay-compiler failed:\n${err.stdout}\n${err.stderr}`);
  }
  const artifact = (name) => require(path.join(project, 'src', '__generated__', `${name}.graphql.js`));
  const refetchQuery = artifact('CandidateCardRefetchQuery');
  const paginationQuery = artifact('CandidateListPaginationQuery');
  const cardFragment = artifact('CandidateCard_candidate');
  const listFragment = artifact('CandidateList_query');
  assert.match(refetchQuery.params.text, /node\(id: \$globalId\)/, 'the refetch query goes through Query.node with the global id');

  const counter = { requests: 0 };
  const env = environment(counter);

  // The newest candidates, then the page before them, as loadPrevious asks:
  // Relay's connection handler puts the older page in front.
  let conn;
  let cursor = null;
  for (let i = 1; i <= 2; i++) {
    const variables = { count: 3, cursor };
    await fetchQuery(env, paginationQuery, variables).toPromise();
    const root = env.lookup(createOperationDescriptor(paginationQuery, variables).fragment).data;
    const before = conn;
    conn = readFragment(env, listFragment, root).candidates;
    assert.equal(conn.edges.length, 3 * i, `after ${i} backward pages the connection holds ${3 * i} candidates`);
    if (before) {
      assert.deepEqual(conn.edges.slice(3).map((e) => e.node.globalId), before.edges.map((e) => e.node.globalId),
        'the newer page stays after the older one');
    }
    assert.equal(conn.pageInfo.hasPreviousPage, true, `page ${i}: there are older candidates`);
    cursor = conn.pageInfo.startCursor;
  }
  const nodes = conn.edges.map((e) => e.node);
  // They are the six newest candidates: the end of a forward walk.
  const all = [];
  for (let after = null; ;) {
    const r = await fetch(new URL('query', gateway.baseURL), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        query: 'query($after: String) { candidates(first: 100, after: $after) { nodes { globalId } pageInfo { hasNextPage endCursor } } }',
        variables: { after },
      }),
    });
    const page = (await r.json()).data.candidates;
    all.push(...page.nodes.map((n) => n.globalId));
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  assert.deepEqual(nodes.map((n) => n.globalId), all.slice(-6), 'the backward pages are the newest candidates, in order');

  // Refetch one card by its global id, in a fresh store.
  const card = readFragment(env, cardFragment, nodes[5]);
  const fresh = environment(counter);
  const variables = { globalId: nodes[5].globalId };
  await fetchQuery(fresh, refetchQuery, variables).toPromise();
  const refetched = readFragment(fresh, cardFragment,
    fresh.lookup(createOperationDescriptor(refetchQuery, variables).fragment).data.node);
  assert.deepEqual(refetched, card, 'the refetched candidate card equals the listed one');
  assert.equal(counter.requests, 3);
});
