// KeyRing: the cluster keys a switch holds (src/crypto/cluster-key.ts), which one it seals
// with, and the subkeys derived from each: one for peer datagrams, one for discovery
// announcements, so the two never share a nonce space. `key add`, `key use` and
// `key remove` change it (src/control/commands/keys.ts); PeerPorts and Discovery are told
// (src/peer/peer-ports.ts, src/peer/discovery.ts). Main thread.
//
// Secrets stay here and in the sealers' key buffers: nothing a `show` prints, no log line
// and no error message holds one; `show keys` prints ids, roles and where each came from.

import { hkdfSync } from 'node:crypto';
import { DivesError } from '../core/errors.js';
import type { ClusterKey } from './cluster-key.js';
import { MAX_KEYS, type SealKey } from './datagram-sealer.js';

const DATA_INFO = 'DiVES peer datagrams v1';
const DISCOVERY_INFO = 'DiVES discovery v1';

interface Held {
  key: ClusterKey;
  data: Buffer;
  discovery: Buffer;
  /** Where it came from: the key file's path. */
  source: string;
  since: number;
}

/** One key as `show keys` prints it. */
export interface KeyInfo {
  id: string;
  /** `send`: datagrams are sealed with it (and it is accepted); `accept`: only accepted. */
  role: 'send' | 'accept';
  source: string;
  since: string;
}

/** The subkey for `info` of a cluster key: HKDF-SHA256 with no salt, 32 bytes. */
function subkey(secret: Uint8Array, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), info, 32));
}

/** A keyed switch's settings: its keys, its session (random, new at every start) and the clock skew allowed. */
export interface PeerSecurity {
  ring: KeyRing;
  session: Buffer;
  skewMs: number;
}

export function keyIdHex(id: number): string {
  return (id >>> 0).toString(16).padStart(8, '0');
}

export class KeyRing {
  private readonly held: Held[] = [];
  private sending: number;
  /** Called after every change, so the sealers hold what the ring holds. */
  onChange: () => void = () => {};

  constructor(
    first: ClusterKey,
    source: string,
    /** --encrypt: payloads encrypted, not only authenticated. */
    readonly encrypt: boolean,
    /** The clock `since` is read from (the docs' sample switch gives a fixed one). */
    private readonly now: () => number = Date.now,
  ) {
    this.held.push(this.make(first, source));
    this.sending = first.id;
  }

  /** The id datagrams are sealed with. */
  get sendId(): number {
    return this.sending;
  }

  /** `key add`: accept datagrams sealed with `key` too. */
  add(key: ClusterKey, source: string): void {
    if (this.held.some((h) => h.key.id === key.id)) throw new DivesError('EATTACHED', `key ${key.idHex} is held already ("show keys")`);
    if (this.held.length >= MAX_KEYS) {
      throw new DivesError('EBADARG', `this switch holds ${MAX_KEYS} keys already; remove one with "key remove ID" first`);
    }
    this.held.push(this.make(key, source));
    this.onChange();
  }

  /** `key use`: seal with the held key `idHex` from now on; the one used before stays accepted. */
  use(idHex: string): void {
    const h = this.find(idHex);
    if (h.key.id === this.sending) return;
    this.sending = h.key.id;
    this.onChange();
  }

  /** `key remove`: stop accepting the held key `idHex`; never the one in use. */
  remove(idHex: string): void {
    const h = this.find(idHex);
    if (h.key.id === this.sending) {
      throw new DivesError('EBADARG', `key ${h.key.idHex} is the one this switch seals with; "key use" another first`);
    }
    this.held.splice(this.held.indexOf(h), 1);
    this.onChange();
  }

  /** The peer datagram subkeys, for the peer I/O thread. */
  dataKeys(): SealKey[] {
    return this.held.map((h) => ({ id: h.key.id, key: h.data }));
  }

  /** The discovery subkeys, for main's discovery. */
  discoveryKeys(): SealKey[] {
    return this.held.map((h) => ({ id: h.key.id, key: h.discovery }));
  }

  /** The held ids, as `show keys` and messages print them. */
  ids(): string[] {
    return this.held.map((h) => h.key.idHex);
  }

  list(): KeyInfo[] {
    return this.held.map((h) => ({
      id: h.key.idHex,
      role: h.key.id === this.sending ? 'send' : 'accept',
      source: h.source,
      since: new Date(h.since).toISOString(),
    }));
  }

  private find(idHex: string): Held {
    const want = idHex.toLowerCase();
    const h = this.held.find((x) => x.key.idHex === want);
    if (h === undefined) throw new DivesError('ENOTATTACHED', `no key ${idHex} is held; "show keys" lists them (${this.ids().join(', ')})`);
    return h;
  }

  private make(key: ClusterKey, source: string): Held {
    return { key, data: subkey(key.secret, DATA_INFO), discovery: subkey(key.secret, DISCOVERY_INFO), source, since: this.now() };
  }
}
