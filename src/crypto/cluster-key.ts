// Cluster keys: the 32-byte secret every switch of a cluster shares for authenticated
// peering, its id (derived from the secret, so a typo or a damaged file is caught), the
// text form `dives keygen` prints, and key files read and written with owner-only modes.
// Main thread; the file functions are the only I/O. No message here ever holds a secret.

import { createHash, randomBytes } from 'node:crypto';
import { type Stats, closeSync, constants, fchmodSync, fstatSync, fsyncSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { DivesError } from '../core/errors.js';

export interface ClusterKey {
  /** The key id, a uint32 derived from the secret (see keyId). */
  id: number;
  /** The id as 8 lowercase hex digits, as key files and logs show it. */
  idHex: string;
  /** The 32 secret bytes. */
  secret: Buffer;
}

/** Bytes in a secret. */
export const SECRET_BYTES = 32;
/** The first word of a key line; a later format gets a new word. */
export const KEY_VERSION = 'dives-key-v1';
/** A key file holds one key line and a few comments; anything larger is not a key file. */
export const MAX_KEY_FILE_BYTES = 4096;

/** What the id hash covers before the secret: names the purpose, so the id is no other hash of the secret. */
const ID_LABEL = Buffer.from('DiVES key id v1', 'ascii');

/** The id of `secret`: the first 4 bytes, big-endian, of SHA-256("DiVES key id v1" || secret). */
function keyId(secret: Buffer): number {
  return createHash('sha256').update(ID_LABEL).update(secret).digest().readUInt32BE(0);
}

function hex8(id: number): string {
  return id.toString(16).padStart(8, '0');
}

/** The key of a 32-byte secret (copied, so the caller may reuse its buffer). */
export function keyFromSecret(secret: Buffer): ClusterKey {
  if (secret.length !== SECRET_BYTES) throw new DivesError('EBADARG', `a cluster key's secret is ${SECRET_BYTES} bytes, not ${secret.length}`);
  const copy = Buffer.from(secret);
  const id = keyId(copy);
  return { id, idHex: hex8(id), secret: copy };
}

/** A new key from the system's random source. */
export function generateKey(): ClusterKey {
  return keyFromSecret(randomBytes(SECRET_BYTES));
}

/** The text of a key file: two comment lines, then `dives-key-v1 ID SECRET`, ending in a newline. */
export function formatKey(k: ClusterKey, now = new Date()): string {
  return [
    `# DiVES cluster key ${k.idHex}, made ${now.toISOString()}.`,
    '# Keep it secret: whoever holds it can join the cluster and read its frames. Mode 0600.',
    `${KEY_VERSION} ${k.idHex} ${k.secret.toString('hex')}`,
    '',
  ].join('\n');
}

/**
 * The key in `text`: `#` comments and blank lines, and exactly one key line.
 * Hex may be upper case. Every error names `source` (a file path, or "stdin") and the
 * line; none quotes a word that could be the secret.
 */
export function parseKey(text: string, source: string): ClusterKey {
  const keyLines: { no: number; words: string[] }[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line !== '' && !line.startsWith('#')) keyLines.push({ no: i + 1, words: line.split(/\s+/) });
  });
  if (keyLines.length === 0) {
    throw new DivesError('EBADARG', `${source}: no key line (${KEY_VERSION} ID SECRET); make a key with \`dives keygen\``);
  }
  if (keyLines.length > 1) {
    throw new DivesError('EBADARG', `${source}: more than one key line (lines ${keyLines.map((l) => l.no).join(', ')}); a key file holds exactly one key`);
  }
  const { no, words } = keyLines[0];
  const at = `${source} line ${no}`;
  if (words.length !== 3) {
    throw new DivesError('EBADARG', `${at}: a key line is 3 words (${KEY_VERSION} ID SECRET), this one has ${words.length}`);
  }
  const [version, idText, secretText] = words;
  if (version !== KEY_VERSION) {
    // Quote the word only when it looks like a version word: a line pasted in the wrong
    // order would otherwise put the secret in the message.
    const what = /^dives-key-[a-z0-9]{1,8}$/i.test(version) ? `"${version}"` : 'an unknown word';
    throw new DivesError('EBADARG', `${at}: starts with ${what}, not ${KEY_VERSION}; this DiVES reads ${KEY_VERSION} keys only`);
  }
  if (!/^[0-9a-f]{8}$/i.test(idText)) {
    throw new DivesError('EBADARG', `${at}: the key id must be 8 hex digits (found ${idText.length} characters${hexNote(idText)})`);
  }
  if (!/^[0-9a-f]{64}$/i.test(secretText)) {
    throw new DivesError('EBADARG', `${at}: the secret must be ${SECRET_BYTES * 2} hex digits (found ${secretText.length} characters${hexNote(secretText)})`);
  }
  const key = keyFromSecret(Buffer.from(secretText, 'hex'));
  const id = idText.toLowerCase();
  if (id !== key.idHex) {
    throw new DivesError('EBADARG', `${at}: key id ${id} does not match its secret (expected ${key.idHex}): the file is damaged or was edited`);
  }
  return key;
}

/** ", not all hex digits" when `word` has other characters; the characters themselves are never quoted. */
function hexNote(word: string): string {
  return /^[0-9a-f]*$/i.test(word) ? '' : ', not all hex digits';
}

/** "0644": the permission bits of `mode` in octal. */
function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/** What a non-regular file is, for the message that refuses it. */
function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/**
 * The key in the file at `path`, which must be a regular file (a symlink to one is
 * followed) that neither group nor others may read or write, of at most 4 KiB.
 * Opens first and checks the opened file (fstat), so the file checked is the file read;
 * O_NONBLOCK keeps a FIFO from hanging the open.
 */
export function readKeyFile(path: string): ClusterKey {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    throw openError(path, err, 'read');
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new DivesError('EBADARG', `key file ${path} is ${fileKind(st)}, not a regular file; give the path of a file \`dives keygen\` wrote`);
    if ((st.mode & 0o077) !== 0) {
      throw new DivesError('EBADARG', `key file ${path} is readable by group or others (mode ${octal(st.mode)}); run \`chmod 600 ${path}\``);
    }
    if (st.size > MAX_KEY_FILE_BYTES) {
      throw new DivesError('EBADARG', `key file ${path} is ${st.size} bytes, more than a key file's ${MAX_KEY_FILE_BYTES}; is it the right file?`);
    }
    // One byte past the limit, so a file that grew since fstat is still caught.
    const buf = Buffer.alloc(MAX_KEY_FILE_BYTES + 1);
    let n = 0;
    while (n < buf.length) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
    }
    if (n > MAX_KEY_FILE_BYTES) throw new DivesError('EBADARG', `key file ${path} is more than ${MAX_KEY_FILE_BYTES} bytes; is it the right file?`);
    return parseKey(buf.toString('utf8', 0, n), `key file ${path}`);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes `k` to a new file at `path` with mode 0600. Never overwrites (O_EXCL, which
 * also refuses a symlink there), and sets the mode with fchmod after the open because
 * the umask may have taken bits from the mode open was given.
 */
export function writeKeyFile(path: string, k: ClusterKey): void {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    throw openError(path, err, 'write');
  }
  try {
    fchmodSync(fd, 0o600);
    const text = Buffer.from(formatKey(k), 'utf8');
    for (let n = 0; n < text.length; ) n += writeSync(fd, text, n, text.length - n);
    fsyncSync(fd);
  } catch (err) {
    // Half a key is worse than none: a later keygen to the same path would be refused.
    closeSync(fd);
    rmSync(path, { force: true });
    throw new DivesError('EBADARG', `key file ${path}: could not write it (${errnoCode(err)}); nothing was left behind`, { cause: err });
  }
  closeSync(fd);
}

function errnoCode(err: unknown): string {
  return (err as NodeJS.ErrnoException | null)?.code ?? String(err);
}

/** The DivesError for a key file that cannot be opened, saying what to do about it. */
function openError(path: string, err: unknown, op: 'read' | 'write'): DivesError {
  const code = errnoCode(err);
  const say = (message: string): DivesError => new DivesError('EBADARG', message, { cause: err });
  if (op === 'write' && code === 'EEXIST') return say(`key file ${path} exists; remove it first or choose another name — DiVES never overwrites a key`);
  if (code === 'ENOENT') {
    return op === 'read'
      ? say(`key file ${path}: no such file; make one with \`dives keygen ${path}\``)
      : say(`key file ${path}: directory ${dirname(path)} does not exist; create it first`);
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return op === 'read'
      ? say(`key file ${path}: permission denied; run DiVES as the user the key file belongs to`)
      : say(`key file ${path}: permission denied; write it in a directory you may create files in`);
  }
  if (code === 'ENOTDIR') return say(`key file ${path}: a part of the path is not a directory`);
  if (code === 'EISDIR') return say(`key file ${path} is a directory; give the path of a file`);
  return say(`key file ${path}: cannot ${op} it (${code})`);
}
