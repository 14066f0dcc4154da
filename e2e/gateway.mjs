// Helpers shared by the e2e tests: build the gateway binary once per test
// file, start it in demo mode (the built-in Workable simulator) on a free port,
// and stop it.

import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..');

export const BUILD_TIMEOUT_MS = 10 * 60_000;
export const START_TIMEOUT_MS = 60_000;

// buildGateway builds the gateway into dir and returns the binary's path.
export async function buildGateway(dir) {
  const binary = path.join(dir, 'gateway');
  try {
    await promisify(execFile)('go', ['build', '-o', binary, '.'], {
      cwd: repoRoot,
      timeout: BUILD_TIMEOUT_MS,
      maxBuffer: 16 << 20,
    });
  } catch (err) {
    throw new Error(`go build of the gateway failed:\n${err.stderr || err.message}`);
  }
  return binary;
}

// startGateway runs the gateway binary in demo mode on a free port and waits
// for the line that tells where Playground is.
export async function startGateway(binary) {
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
export async function stopGateway(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}
