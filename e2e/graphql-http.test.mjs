// GraphQL over HTTP conformance of the gateway, judged by the reference
// audit suite: graphql-http's auditServer runs every MUST, SHOULD and MAY of
// the spec (https://graphql.github.io/graphql-over-http/) against the demo
// gateway's /query, and every audit must pass. A script must also be able
// to read the errors of a query that fails validation: Python's urllib
// raises on any 4xx before the body can be read, so the answer to
// application/json must be 200.
//
// Run it with `bash e2e/run.sh` or `cd e2e && node --test graphql-http.test.mjs`.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { auditServer } from 'graphql-http';

import { BUILD_TIMEOUT_MS, START_TIMEOUT_MS, buildGateway, startGateway, stopGateway } from './gateway.mjs';

let workDir;
let gateway;

before(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'gateway-audit-'));
  gateway = await startGateway(await buildGateway(workDir));
}, { timeout: BUILD_TIMEOUT_MS + START_TIMEOUT_MS });

after(async () => {
  if (gateway) await stopGateway(gateway.child);
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

test('graphql-http audit: every MUST, SHOULD and MAY passes', { timeout: 60_000 }, async () => {
  const url = new URL('query', gateway.baseURL).href;
  const results = await auditServer({ url });
  const failed = results.filter((r) => r.status !== 'ok');
  const report = failed.map((r) => `${r.status} ${r.id} ${r.name}: ${r.reason}`).join('\n');
  console.log(`graphql-http audit: ${results.length - failed.length} of ${results.length} passed`);
  assert.ok(results.length >= 50, `the audit ran only ${results.length} checks`);
  assert.equal(failed.length, 0, `audits that did not pass:\n${report}\n(gateway output:\n${gateway.output()})`);
});

test("Python's urllib reads the errors of a query that fails validation", { timeout: 30_000 }, async () => {
  const url = new URL('query', gateway.baseURL).href;
  const script = `
import json, sys, urllib.request
req = urllib.request.Request(sys.argv[1], data=json.dumps({"query": "{ jbos { nodes { id } } }"}).encode(),
                             headers={"Content-Type": "application/json", "Accept": "application/json"})
with urllib.request.urlopen(req) as resp:
    body = json.load(resp)
print(json.dumps({"status": resp.status, "codes": [e["extensions"]["code"] for e in body["errors"]], "hasData": "data" in body}))
`;
  let stdout;
  try {
    ({ stdout } = await promisify(execFile)('python3', ['-c', script, url], { timeout: 20_000 }));
  } catch (err) {
    throw new Error(`python3 could not read the answer (is python3 installed? bash e2e/run.sh installs it): ${err.stderr || err.message}`);
  }
  assert.deepEqual(JSON.parse(stdout), { status: 200, codes: ['GRAPHQL_VALIDATION_FAILED'], hasData: false });
});
