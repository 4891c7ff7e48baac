// Seeded generators of hostile input for the robustness suite — random and mutated peer
// datagrams, malformed and valid discovery announcements — and the oracles that say which
// counter of the switch each one must land in. The oracles are DiVES's own codecs
// (src/peer/wire/*), so a check built on them proves every input was counted somewhere, not
// that the codecs are right (test/peer/wire/ does that). Runs on the hostile runner's main
// thread; pure, no I/O.

import { mulberry32, randInt } from '../helpers/prng.js';
import { PEER_DROPS } from '../../src/core/counters.js';
import { DEFAULT_MAX_FRAME } from '../../src/core/frame.js';
import { decodePeerDatagram, peerDropOf } from '../../src/peer/wire/peer-datagram.js';
import { KEEPALIVE, isKeepalive } from '../../src/peer/wire/keepalive.js';
import { encodeOffloadAdvert, isOffloadAdvert } from '../../src/peer/wire/offload-advert.js';
import { acceptFromSource, parseAnnouncementReason, MAX_ANNOUNCEMENT } from '../../src/peer/wire/announcement.js';
import { looksSealed } from '../../src/crypto/sealed-datagram.js';
import { MAX_UDP_PAYLOAD } from './raw-udp.js';

const POOL_BYTES = 1 << 17;

/** A seeded source of numbers and random bytes (from a pool, so a 64 KiB datagram costs a copy, not 64 Ki calls). */
export class Fuzz {
  readonly rand: () => number;
  private readonly pool = Buffer.alloc(POOL_BYTES);

  constructor(seed: number) {
    this.rand = mulberry32(seed);
    for (let i = 0; i < POOL_BYTES; i += 4) this.pool.writeUInt32LE(Math.floor(this.rand() * 0x1_0000_0000), i);
  }

  int(lo: number, hi: number): number {
    return randInt(this.rand, lo, hi);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)];
  }

  /** out[off..off+len) = random bytes. */
  bytes(out: Buffer, off: number, len: number): void {
    let done = 0;
    while (done < len) {
      const from = this.int(0, POOL_BYTES - 1);
      const n = Math.min(len - done, POOL_BYTES - from);
      this.pool.copy(out, off + done, from, from + n);
      done += n;
    }
  }
}

/** Where a datagram from a known peer must be counted. `frame`: forwarded (frames in) or a drop of the frame path. */
export type PeerClass = 'keyed' | 'keepalive' | 'advert' | 'frame' | 'no-vlan' | 'short' | 'bad-vid' | 'giant';

/**
 * The peer I/O thread's order for a switch without a key (src/peer/peer-io.ts,
 * src/peer/peer-rx.ts): a sealed-looking datagram (docs/security.md), keepalive,
 * advertisement, the codec, then the VLAN.
 */
export function classifyPeerDatagram(buf: Buffer, len: number, localVids: ReadonlySet<number>): PeerClass {
  if (looksSealed(buf, len)) return 'keyed';
  if (isKeepalive(buf, len)) return 'keepalive';
  if (isOffloadAdvert(buf, len)) return 'advert';
  const r = decodePeerDatagram(buf, len, DEFAULT_MAX_FRAME);
  if (r < 0) return PEER_DROPS.names[peerDropOf(r)] as PeerClass;
  return localVids.has(r & 0xfff) ? 'frame' : 'no-vlan';
}

const SPECIAL_WORDS = [0, 1, 10, 20, 30, 4094, 4095, 4096, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0x8000000a, 0x80000014, 0x80000fff, 0xffffffff];
const SPECIAL_LENS = [0, 1, 3, 4, 5, 13, 14, 17, 18, 27, 28, 523, 1518, 9018, 65_000, MAX_UDP_PAYLOAD];
const TEMPLATE_VIDS = [10, 20, 30, 1, 4094];

/** Random and mutated peer datagrams. Frames never carry a protected source MAC (the ping VMs'), so the fuzz cannot steal their fdb entries. */
export class PeerDatagramFuzzer {
  constructor(
    private readonly fz: Fuzz,
    private readonly protectedMacs: readonly Buffer[],
  ) {}

  /** Random bytes of a random length (mostly short, some up to the largest datagram); sometimes a plausible vid word. */
  random(out: Buffer): number {
    const fz = this.fz;
    const r = fz.rand();
    const len = r < 0.5 ? fz.int(0, 64) : r < 0.9 ? fz.int(65, 1600) : r < 0.98 ? fz.int(1601, 9100) : fz.int(60_000, MAX_UDP_PAYLOAD);
    fz.bytes(out, 0, len);
    if (len >= 4 && fz.rand() < 0.4) out.writeUInt32BE(fz.pick(SPECIAL_WORDS), 0);
    return this.guard(out, len);
  }

  /** A valid datagram (frame, offloaded frame, keepalive, advertisement) with one to four mutations. */
  mutated(out: Buffer): number {
    let len = this.template(out);
    const fz = this.fz;
    for (let k = fz.int(1, 4); k > 0; k--) len = this.mutate(out, len);
    return this.guard(out, len);
  }

  private template(out: Buffer): number {
    const fz = this.fz;
    switch (fz.int(0, 5)) {
      case 0:
        KEEPALIVE.copy(out, 0);
        return KEEPALIVE.length;
      case 1: {
        const vids = Array.from({ length: fz.int(0, 8) }, () => fz.int(0, 4095));
        return encodeOffloadAdvert(vids).copy(out, 0);
      }
      case 2:
      case 3:
        out.writeUInt32BE(fz.pick(TEMPLATE_VIDS), 0);
        return 4 + this.frame(out, 4, fz.int(60, 1514));
      case 4: {
        out.writeUInt32BE((0x80000000 | fz.pick(TEMPLATE_VIDS)) >>> 0, 0);
        fz.bytes(out, 4, 10);
        out[4] = fz.pick([0, 1, 2, 0xff]);
        out[5] = fz.pick([0, 1, 3, 4, 0x80, 0xff]);
        return 14 + this.frame(out, 14, fz.int(60, 9000));
      }
      default:
        // The largest frame a datagram can carry over IPv4 (under the default maximum frame).
        out.writeUInt32BE(20, 0);
        return 4 + this.frame(out, 4, fz.pick([9000, MAX_UDP_PAYLOAD - 4]));
    }
  }

  /** An Ethernet frame of `len` bytes at out[off]: random unicast MACs, the local experimental ethertype. */
  private frame(out: Buffer, off: number, len: number): number {
    this.fz.bytes(out, off, len);
    out[off] &= 0xfe;
    out[off + 6] = (out[off + 6] & 0xfc) | 0x02;
    out.writeUInt16BE(0x88b5, off + 12);
    return len;
  }

  private mutate(out: Buffer, len: number): number {
    const fz = this.fz;
    switch (fz.int(0, 6)) {
      case 0:
        if (len > 0) out[fz.int(0, len - 1)] ^= 1 << fz.int(0, 7);
        return len;
      case 1:
        if (len > 0) out[fz.int(0, len - 1)] = fz.int(0, 255);
        return len;
      case 2:
        return fz.int(0, len);
      case 3: {
        const more = Math.min(MAX_UDP_PAYLOAD - len, fz.int(1, fz.rand() < 0.9 ? 64 : 65_000));
        fz.bytes(out, len, more);
        return len + more;
      }
      case 4:
        if (len >= 4) out.writeUInt32BE(fz.pick(SPECIAL_WORDS), 0);
        return len;
      case 5: {
        const to = fz.pick(SPECIAL_LENS);
        if (to > len) fz.bytes(out, len, to - len);
        return to;
      }
      default: {
        if (len < 8) return len;
        const from = fz.int(0, len - 4);
        const n = fz.int(1, Math.min(64, len - from));
        out.copy(out, fz.int(0, len - n), from, from + n);
        return len;
      }
    }
  }

  /** A frame at offset 4 (plain) or 14 (offloaded) never has a protected source MAC. */
  private guard(out: Buffer, len: number): number {
    for (const at of [4 + 6, 14 + 6]) {
      if (len < at + 6) continue;
      for (const m of this.protectedMacs) if (out.compare(m, 0, 6, at, at + 6) === 0) out[at + 5] ^= 0x80;
    }
    return len;
  }
}

/** What the discovery socket of a switch without a key must count an announcement from `source` as (src/peer/discovery.ts). */
export function classifyAnnouncement(buf: Buffer, source: string): { accepted: boolean; oversized: boolean; keyed: boolean } {
  if (looksSealed(buf, buf.length)) return { accepted: false, oversized: false, keyed: true };
  const parsed = parseAnnouncementReason(buf);
  if (!parsed.ok) return { accepted: false, oversized: buf.length > MAX_ANNOUNCEMENT, keyed: false };
  return { accepted: acceptFromSource(parsed.value, source), oversized: false, keyed: false };
}

const BAD_ANNOUNCEMENTS = [
  '', ':', ':3333', 'host:', 'host:0', 'host:65536', 'host:99999', 'host:+1', 'host:03333', 'a:b:c',
  '0.0.0.0:3333', '0.1.2.3:3333', '[::]:3333', '[::ffff:0.0.0.0]:3333', '127.0.0.1:3333', 'localhost:3333',
  'x.localhost:3333', '[::1]:3333', '010.0.0.1:3333', '10.0.0.01:3333', '[fe80::1%eth0]:3333', '[10.0.0.1]:3333',
  '[host]:3333', 'host.123:3333', '3232235777:3333', '10.0.1:3333', 'under_score:3333', '-lead.example:3333',
  'trail-.example:3333', 'host..example:3333', 'host.example.:3333', '10.1.2.3:3333\n', ' 10.1.2.3:3333', '10.1.2.3 :3333',
];

/** Malformed announcements: the parser's known refusals, random bytes, long names, and valid ones mutated. */
export function badAnnouncement(fz: Fuzz, out: Buffer): number {
  switch (fz.int(0, 5)) {
    case 0:
      return out.write(fz.pick(BAD_ANNOUNCEMENTS), 0, 'latin1');
    case 1: {
      const len = fz.int(0, 600);
      fz.bytes(out, 0, len);
      return len;
    }
    case 2: {
      const len = fz.int(1, 300);
      for (let i = 0; i < len; i++) out[i] = fz.int(0x21, 0x7e);
      return len;
    }
    case 3: {
      const label = 'a'.repeat(fz.int(50, 70));
      return out.write(`${Array.from({ length: fz.int(3, 6) }, () => label).join('.')}:3333`, 0, 'latin1');
    }
    default: {
      const len = out.write(`10.${fz.int(0, 255)}.${fz.int(0, 255)}.${fz.int(0, 255)}:${fz.int(1, 65535)}`, 0, 'latin1');
      out[fz.int(0, len - 1)] = fz.int(0, 255);
      return len;
    }
  }
}
