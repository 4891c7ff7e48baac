// KeyControl: what `show keys`, `key add FILE`, `key use ID` and `key remove ID` do to a
// running switch's key ring (src/crypto/key-ring.ts), with the log line each change
// deserves. Key rotation is these three steps on every switch in turn (docs/security.md,
// "Rotating the key"). Main thread; called by src/control/commands/keys.ts.

import { DivesError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { readKeyFile } from './cluster-key.js';
import { loadAead } from './aead.js';
import { keyIdHex, type KeyInfo, type PeerSecurity } from './key-ring.js';

export type { KeyInfo };

/** What `show keys` prints. */
export interface KeysInfo {
  /** False on a switch started without --key-file: nothing is sealed. */
  keyed: boolean;
  keys: KeyInfo[];
  /** Frames encrypted (--encrypt), or only authenticated. */
  encrypt: boolean;
  /** --max-clock-skew, seconds. */
  maxClockSkewSeconds: number;
  /** Which libraries seal (src/crypto/aead.ts); empty without a key. */
  libraries: string;
}

export class KeyControl {
  constructor(
    private readonly security: () => PeerSecurity | null,
    private readonly log: Logger,
    /** Which libraries seal: asked only of a keyed switch, which has loaded them. */
    private readonly libraries: () => string = () => loadAead().libraries,
  ) {}

  show(): KeysInfo {
    const sec = this.security();
    if (sec === null) return { keyed: false, keys: [], encrypt: false, maxClockSkewSeconds: 0, libraries: '' };
    return { keyed: true, keys: sec.ring.list(), encrypt: sec.ring.encrypt, maxClockSkewSeconds: sec.skewMs / 1000, libraries: this.libraries() };
  }

  /** `key add FILE`: read and check the key file as --key-file is, then accept its key too. */
  add(file: string): KeyInfo {
    const ring = this.ring();
    const key = readKeyFile(file);
    ring.add(key, file);
    this.log.info(`keys: added key ${key.idHex} from ${file}; datagrams sealed with it are accepted, sealing stays with ${keyIdHex(ring.sendId)} until "key use ${key.idHex}"`);
    return ring.list().find((k) => k.id === key.idHex) as KeyInfo;
  }

  /** `key use ID`: seal with the held key ID from now on. */
  use(id: string): KeyInfo {
    const ring = this.ring();
    const before = ring.sendId;
    ring.use(id);
    if (ring.sendId !== before) this.log.info(`keys: sealing with key ${keyIdHex(ring.sendId)} from now on; ${keyIdHex(before)} is still accepted until "key remove ${keyIdHex(before)}"`);
    return ring.list().find((k) => k.role === 'send') as KeyInfo;
  }

  /** `key remove ID`: datagrams sealed with key ID are refused from now on. */
  remove(id: string): void {
    const ring = this.ring();
    ring.remove(id);
    this.log.info(`keys: removed key ${id.toLowerCase()}; datagrams sealed with it are refused (unknown-key) from now on`);
  }

  /**
   * VXLAN carries no authenticator, so a keyed switch takes no VTEP: one would let anyone
   * who can send it a datagram put frames on the VLAN that keyed peers then carry.
   */
  refuseVxlan(what: string): void {
    const sec = this.security();
    if (sec === null) return;
    throw new DivesError('EBADARG', `${what}: this switch has a cluster key (--key-file) and VXLAN datagrams carry no authenticator, so it takes no VTEP (docs/security.md)`);
  }

  private ring(): PeerSecurity['ring'] {
    const sec = this.security();
    if (sec === null) throw new DivesError('EBADCMD', 'this switch has no cluster key; it is given at start (dives start --key-file FILE)');
    return sec.ring;
  }
}
