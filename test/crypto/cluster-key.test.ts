// Cluster keys (src/crypto/cluster-key.ts): the id derived from the secret, the text
// form and each way a key line can be wrong, and key files on a real file system in a
// temp directory — refused when others may read them, never overwritten. Ava's main thread.

import test from 'ava';
import type { ExecutionContext } from 'ava';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DivesError } from '../../src/core/errors.js';
import { formatKey, generateKey, keyFromSecret, parseKey, readKeyFile, writeKeyFile } from '../../src/crypto/cluster-key.js';

/** A secret no test changes: the bytes 0, 1, ..., 31. */
const SECRET = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
const SECRET_HEX = SECRET.toString('hex');

/** The id the file format promises, computed here from its definition rather than by the code under test. */
function expectedId(secret: Buffer): string {
  return createHash('sha256').update(Buffer.from('DiVES key id v1', 'ascii')).update(secret).digest().subarray(0, 4).toString('hex');
}

function tempDir(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'dives-key-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A file holding `text`, with exactly `mode` whatever the umask. */
function fileWith(dir: string, name: string, text: string | Buffer, mode: number): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

/** The DivesError `fn` throws; fails the test when it throws anything else or nothing. */
function divesError(t: ExecutionContext, fn: () => unknown): DivesError {
  const err = t.throws(fn, { instanceOf: DivesError });
  t.is(err?.code, 'EBADARG');
  return err as DivesError;
}

test.serial('writeKeyFile makes the file 0600 whatever the umask, 0 or one that would take the owner\'s bits', (t) => {
  const dir = tempDir(t);
  const old = process.umask();
  try {
    for (const umask of [0, 0o277, 0o777]) {
      process.umask(umask);
      const path = join(dir, `key-${umask.toString(8)}`);
      writeKeyFile(path, keyFromSecret(SECRET));
      t.is(statSync(path).mode & 0o7777, 0o600, `umask ${umask.toString(8)}`);
    }
  } finally {
    process.umask(old);
  }
});

test('a fixed secret has the id SHA-256("DiVES key id v1" || secret) begins with', (t) => {
  const key = keyFromSecret(SECRET);
  t.is(key.idHex, expectedId(SECRET));
  t.is(key.id, Number.parseInt(expectedId(SECRET), 16));
  t.regex(key.idHex, /^[0-9a-f]{8}$/);
  t.is(keyFromSecret(Buffer.from(SECRET)).idHex, key.idHex, 'the same secret, the same id');
});

test('keyFromSecret copies the secret and refuses one that is not 32 bytes', (t) => {
  const secret = Buffer.from(SECRET);
  const key = keyFromSecret(secret);
  secret.fill(0);
  t.is(key.secret.toString('hex'), SECRET_HEX);
  t.regex(divesError(t, () => keyFromSecret(Buffer.alloc(31))).message, /32 bytes, not 31/);
});

test('generated keys are 32 random bytes with their derived id, and differ', (t) => {
  const a = generateKey();
  const b = generateKey();
  t.is(a.secret.length, 32);
  t.is(a.idHex, expectedId(a.secret));
  t.is(a.id, Number.parseInt(a.idHex, 16));
  t.notDeepEqual(a.secret, b.secret);
});

test('formatKey writes two comment lines and the key line; parseKey reads it back', (t) => {
  const key = keyFromSecret(SECRET);
  const text = formatKey(key, new Date('2025-01-02T03:04:05.678Z'));
  t.is(
    text,
    `# DiVES cluster key ${key.idHex}, made 2025-01-02T03:04:05.678Z.\n` +
      '# Keep it secret: whoever holds it can join the cluster and read its frames. Mode 0600.\n' +
      `dives-key-v1 ${key.idHex} ${SECRET_HEX}\n`,
  );
  t.deepEqual(parseKey(text, 'test'), key);
  const fresh = generateKey();
  t.deepEqual(parseKey(formatKey(fresh), 'test'), fresh);
});

test('parseKey takes upper-case hex, CRLF, blank lines, indented comments and spaces around words, and normalises', (t) => {
  const id = expectedId(SECRET);
  const text = `\r\n  # a comment\r\n\r\n\t dives-key-v1   ${id.toUpperCase()}\t${SECRET_HEX.toUpperCase()}  \r\n# after\r\n`;
  const key = parseKey(text, 'test');
  t.is(key.idHex, id);
  t.is(key.secret.toString('hex'), SECRET_HEX);
});

test('each malformed key text is refused with a message naming the source and line, never the secret', (t) => {
  const id = expectedId(SECRET);
  const wrongId = id === '00000000' ? '00000001' : '00000000';
  const cases: [string, string, RegExp][] = [
    ['empty', '', /^SRC: no key line \(dives-key-v1 ID SECRET\); make a key with `dives keygen`$/],
    ['comments only', '# a\n\n# b\n', /^SRC: no key line/],
    ['two key lines', `# c\ndives-key-v1 ${id} ${SECRET_HEX}\n\ndives-key-v1 ${id} ${SECRET_HEX}\n`, /^SRC: more than one key line \(lines 2, 4\)/],
    ['two words', `dives-key-v1 ${SECRET_HEX}`, /^SRC line 1: a key line is 3 words \(dives-key-v1 ID SECRET\), this one has 2$/],
    ['four words', `\ndives-key-v1 ${id} ${SECRET_HEX} extra`, /^SRC line 2: a key line is 3 words .*this one has 4$/],
    ['a later version', `dives-key-v2 ${id} ${SECRET_HEX}`, /^SRC line 1: starts with "dives-key-v2", not dives-key-v1; this DiVES reads dives-key-v1 keys only$/],
    ['words in the wrong order', `${SECRET_HEX} ${id} dives-key-v1`, /^SRC line 1: starts with an unknown word, not dives-key-v1/],
    ['short id', `dives-key-v1 ${id.slice(1)} ${SECRET_HEX}`, /^SRC line 1: the key id must be 8 hex digits \(found 7 characters\)$/],
    ['id not hex', `dives-key-v1 ${id.slice(1)}g ${SECRET_HEX}`, /^SRC line 1: the key id must be 8 hex digits \(found 8 characters, not all hex digits\)$/],
    ['id and secret swapped', `dives-key-v1 ${SECRET_HEX} ${id}`, /^SRC line 1: the key id must be 8 hex digits \(found 64 characters\)$/],
    ['short secret', `dives-key-v1 ${id} ${SECRET_HEX.slice(2)}`, /^SRC line 1: the secret must be 64 hex digits \(found 62 characters\)$/],
    ['secret not hex', `dives-key-v1 ${id} ${SECRET_HEX.slice(1)}z`, /^SRC line 1: the secret must be 64 hex digits \(found 64 characters, not all hex digits\)$/],
    [
      'id of another secret',
      `# c\ndives-key-v1 ${wrongId} ${SECRET_HEX}\n`,
      new RegExp(`^SRC line 2: key id ${wrongId} does not match its secret \\(expected ${id}\\): the file is damaged or was edited$`),
    ],
  ];
  for (const [what, text, message] of cases) {
    const err = divesError(t, () => parseKey(text, 'SRC'));
    t.regex(err.message, message, what);
    // Neither the secret nor any long run of it (the short-secret case drops its first byte).
    for (const hex of [SECRET_HEX, SECRET_HEX.slice(2, 34)]) t.false(err.message.toLowerCase().includes(hex), `${what}: the message holds the secret`);
  }
});

test('readKeyFile reads a key file of mode 0600 or 0400, and a symlink to one', (t) => {
  const dir = tempDir(t);
  const key = keyFromSecret(SECRET);
  t.deepEqual(readKeyFile(fileWith(dir, 'rw', formatKey(key), 0o600)), key);
  t.deepEqual(readKeyFile(fileWith(dir, 'ro', formatKey(key), 0o400)), key);
  symlinkSync(join(dir, 'rw'), join(dir, 'link'));
  t.deepEqual(readKeyFile(join(dir, 'link')), key);
});

test('readKeyFile refuses a missing file and says how to make one', (t) => {
  const path = join(tempDir(t), 'missing.key');
  t.is(divesError(t, () => readKeyFile(path)).message, `key file ${path}: no such file; make one with \`dives keygen ${path}\``);
});

test('readKeyFile refuses a file group or others may read or write, printing its mode, also through a symlink', (t) => {
  const dir = tempDir(t);
  const text = formatKey(keyFromSecret(SECRET));
  for (const mode of [0o644, 0o640, 0o604, 0o620]) {
    const path = fileWith(dir, `k${mode.toString(8)}`, text, mode);
    const octal = `0${mode.toString(8)}`;
    t.is(divesError(t, () => readKeyFile(path)).message, `key file ${path} is readable by group or others (mode ${octal}); run \`chmod 600 ${path}\``);
  }
  // The link's own mode is 0777; what counts is the file it leads to.
  symlinkSync(join(dir, 'k644'), join(dir, 'link'));
  t.regex(divesError(t, () => readKeyFile(join(dir, 'link'))).message, /\(mode 0644\)/);
});

test('readKeyFile refuses a directory', (t) => {
  const path = join(tempDir(t), 'keys');
  mkdirSync(path, { mode: 0o700 });
  t.regex(divesError(t, () => readKeyFile(path)).message, new RegExp(`^key file ${path} is a directory, not a regular file`));
});

test('readKeyFile refuses a file larger than 4 KiB, and takes one of exactly 4 KiB', (t) => {
  const dir = tempDir(t);
  const line = `dives-key-v1 ${expectedId(SECRET)} ${SECRET_HEX}\n`;
  const big = fileWith(dir, 'big', `${'#'.repeat(4097 - line.length - 1)}\n${line}`, 0o600);
  t.regex(divesError(t, () => readKeyFile(big)).message, new RegExp(`^key file ${big} is 4097 bytes, more than a key file's 4096`));
  const edge = fileWith(dir, 'edge', `${'#'.repeat(4096 - line.length - 1)}\n${line}`, 0o600);
  t.is(readKeyFile(edge).idHex, expectedId(SECRET));
});

test('readKeyFile names the file and line of a key that does not parse, without the secret', (t) => {
  const path = fileWith(tempDir(t), 'bad', `# c\ndives-key-v1 0000000 ${SECRET_HEX}\n`, 0o600);
  const err = divesError(t, () => readKeyFile(path));
  t.is(err.message, `key file ${path} line 2: the key id must be 8 hex digits (found 7 characters)`);
});

test('writeKeyFile writes what readKeyFile reads, and refuses to overwrite a file or follow a symlink', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'cluster.key');
  const key = generateKey();
  writeKeyFile(path, key);
  t.deepEqual(readKeyFile(path), key);
  const before = readFileSync(path);
  const exists = `key file ${path} exists; remove it first or choose another name — DiVES never overwrites a key`;
  t.is(divesError(t, () => writeKeyFile(path, generateKey())).message, exists);
  t.deepEqual(readFileSync(path), before, 'the first key is untouched');
  symlinkSync(join(dir, 'elsewhere'), join(dir, 'link'));
  t.regex(divesError(t, () => writeKeyFile(join(dir, 'link'), key)).message, / exists; remove it first/);
});

test('writeKeyFile into a directory that does not exist says so', (t) => {
  const path = join(tempDir(t), 'no', 'cluster.key');
  t.regex(divesError(t, () => writeKeyFile(path, generateKey())).message, / does not exist; create it first$/);
});
