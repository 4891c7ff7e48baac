// bench/qemu-load.c built for the benches that need a QEMU endpoint faster than QEMU
// itself: compiled with the system C compiler into .bench-results/, again when the source
// is newer. Bench main thread.

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

/** The path of the built qemu-load. */
export async function buildQemuLoad(): Promise<string> {
  const root = repoRoot();
  const src = join(root, 'bench', 'qemu-load.c');
  const out = join(root, '.bench-results', 'qemu-load');
  mkdirSync(dirname(out), { recursive: true });
  if (!existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs) {
    // Built beside the output and renamed, so concurrent test files never run a half-written binary.
    const tmp = `${out}.${process.pid}`;
    await promisify(execFile)('cc', ['-O2', '-Wall', '-o', tmp, src]);
    renameSync(tmp, out);
  }
  return out;
}
