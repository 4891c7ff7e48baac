// `dives keygen [FILE]` as a person runs it: bin/run.js in a child process under the Node
// running the tests, printing a key, or writing one to a new 0600 file in a temp
// directory and refusing to overwrite it. Ava's main thread.

import test from 'ava';
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseKey, readKeyFile } from '../../src/crypto/cluster-key.js';
import { BIN, tempDir } from '../helpers/ctl-process.js';

const run = promisify(execFile);

test('dives keygen prints a key that parses, ending in one newline; two runs give different keys', async (t) => {
  const a = await run(process.execPath, [BIN, 'keygen']);
  const b = await run(process.execPath, [BIN, 'keygen']);
  t.is(a.stderr, '');
  t.regex(a.stdout, /^# DiVES cluster key [0-9a-f]{8}, made \d{4}-\d\d-\d\dT[\d:.]+Z\.\n# Keep it secret: [^\n]*\ndives-key-v1 [0-9a-f]{8} [0-9a-f]{64}\n$/);
  const ka = parseKey(a.stdout, 'stdout');
  const kb = parseKey(b.stdout, 'stdout');
  t.true(a.stdout.startsWith(`# DiVES cluster key ${ka.idHex},`));
  t.notDeepEqual(ka.secret, kb.secret);
  t.not(ka.idHex, kb.idHex);
});

test('dives keygen FILE writes a 0600 key file whose id it prints, and refuses the same FILE again', async (t) => {
  const file = join(tempDir(t), 'cluster.key');
  const first = await run(process.execPath, [BIN, 'keygen', file]);
  const printed = /^wrote cluster key ([0-9a-f]{8}) to (.*) \(mode 0600\)\n$/.exec(first.stdout);
  t.truthy(printed, first.stdout);
  t.is(printed?.[2], file);
  t.is(statSync(file).mode & 0o7777, 0o600);
  const key = readKeyFile(file);
  t.is(key.idHex, printed?.[1] ?? 'no id printed');

  const again = await run(process.execPath, [BIN, 'keygen', file]).then(
    () => null,
    (e: { code: number; stdout: string; stderr: string }) => e,
  );
  t.truthy(again, 'a second keygen to the same file must fail');
  t.is(again?.code, 1);
  t.is(again?.stdout, '');
  t.is(again?.stderr, `error EBADARG: key file ${file} exists; remove it first or choose another name — DiVES never overwrites a key\n`);
  t.deepEqual(readKeyFile(file), key, 'the first key is untouched');
});
