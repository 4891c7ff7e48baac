// The sample switch's cluster keys (src/docs/sample-switch.ts): a real key ring over made-up
// secrets and a fixed clock, so `show keys` and the `key` commands' examples in
// docs/console.md come out the same every time. The ring holds key 85220c5e (sealing) and
// 5a313a40 (accepted, as between rotation steps 1 and 2); `key add FILE` pretends every
// file holds key 286e4558. Pure; no file is read.

import { keyFromSecret } from '../crypto/cluster-key.js';
import { KeyControl, type KeysInfo } from '../crypto/key-control.js';
import { KeyRing, type KeyInfo } from '../crypto/key-ring.js';
import { createLogger } from '../core/log.js';

const SINCE = Date.parse('2026-11-30T09:00:00Z');

export class SampleKeys {
  private readonly ring = new KeyRing(keyFromSecret(Buffer.alloc(32, 1)), '/etc/dives/cluster.key', true, () => SINCE);
  private readonly control = new KeyControl(() => ({ ring: this.ring, session: Buffer.alloc(8), skewMs: 60_000 }), createLogger('silent'), () => 'libsodium below 1024 bytes, OpenSSL above');

  constructor() {
    this.ring.add(keyFromSecret(Buffer.alloc(32, 2)), '/etc/dives/next.key');
  }

  show(): KeysInfo {
    return this.control.show();
  }

  add(file: string): KeyInfo {
    this.ring.add(keyFromSecret(Buffer.alloc(32, 3)), file);
    return this.ring.list().find((k) => k.source === file) as KeyInfo;
  }

  use(id: string): KeyInfo {
    return this.control.use(id);
  }

  remove(id: string): void {
    this.control.remove(id);
  }
}
