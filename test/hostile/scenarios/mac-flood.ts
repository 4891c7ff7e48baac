// Scenario: a source-MAC flood (macof-style) through one QEMU port of VLAN 10, the ping's
// VLAN: every frame a new source MAC and a random unicast destination, so the fdb fills and
// every frame is flooded to the TAPs and the peer, but for what the VLAN's storm-control
// unknown rate drops on the flooding port. Every frame must be counted where it went
// (received, learned or fdb-full, storm-unknown, and per output port sent or ring-full), and the MACs must
// go with the port when the VM leaves. Run by test/hostile/run-inside.ts on the runner's
// main thread.

import { BOUNDS } from '../hostile-config.js';
import { VM_A, VM_B, macBytes, type PortJson, type Rig, type VlanJson } from '../rig.js';
import { timeUntil, type Scenario, type ScenarioOut } from '../scenario.js';
import { drainedOrClosed } from '../../../src/control/byte-stream.js';
import type { QemuClient } from '../../helpers/qemu-client.js';

const FRAME = 60;
const CHUNK_FRAMES = 16_384;
/** Frames other than the flood that a flooded port may see meanwhile (pings, ARP, IPv6 multicast). */
const BACKGROUND_SLACK = 2000;
/**
 * What a frame flooded to a port can become besides sent: the forwarding thread's drops for
 * that port, and tap-write, which `show ports` takes out of tx (src/switch/switch-reports.ts).
 */
const TX_DROPS = ['ring-full', 'offload', 'split-horizon', 'tap-write'];

async function vlan10(rig: Rig): Promise<VlanJson> {
  const r = await rig.ctl<{ vlans: VlanJson[] }>('show vlans');
  const v = r.vlans.find((x) => x.vid === 10);
  if (v === undefined) throw new Error('VLAN 10 is gone');
  return v;
}

async function ports10(rig: Rig): Promise<PortJson[]> {
  return (await rig.ctl<{ ports: PortJson[] }>('vlan 10 show ports')).ports;
}

/** Write `n` frames, frame i from source MAC 06:xx:xx:xx:xx:xx (distinct for each i) to a random unicast MAC. */
async function flood(rig: Rig, c: QemuClient, n: number): Promise<void> {
  const key = rig.fz.int(0, 0xffffff) * 0x10000;
  const protectedMacs = [VM_A.mac, VM_B.mac].map(macBytes);
  const one = 4 + FRAME;
  for (let i = 0; i < n; i += CHUNK_FRAMES) {
    const count = Math.min(CHUNK_FRAMES, n - i);
    const chunk = Buffer.alloc(count * one);
    rig.fz.bytes(chunk, 0, chunk.length);
    for (let j = 0; j < count; j++) {
      const at = j * one;
      chunk.writeUInt32BE(FRAME, at);
      // The destination from the PRNG itself, not the byte pool, whose bytes other scenarios' frames reuse.
      chunk.writeUInt32BE(Math.floor(rig.fz.rand() * 0x1_0000_0000), at + 4);
      chunk.writeUInt16BE(Math.floor(rig.fz.rand() * 0x10000), at + 8);
      chunk[at + 4] = (chunk[at + 4] & 0xfc) | 0x02;
      if (protectedMacs.some((m) => chunk.compare(m, 0, 6, at + 4, at + 10) === 0)) chunk[at + 9] ^= 1;
      chunk[at + 10] = 0x06;
      chunk.writeUIntBE((i + j + key) % 0x100_0000_0000, at + 11, 5);
      chunk.writeUInt16BE(0x88b5, at + 16);
    }
    if (!c.socket.write(chunk)) await drainedOrClosed(c.socket);
  }
}

export const macFlood: Scenario = {
  name: 'mac-flood',
  what: 'a new source MAC in every frame through one QEMU port of the ping\'s VLAN, to random unicast destinations',
  memoryHeavy: true,
  async run(rig: Rig, out: ScenarioOut): Promise<void> {
    const n = rig.sizes.macFloodFrames;
    const v0 = await vlan10(rig);
    const p0 = await ports10(rig);
    const c = await rig.qemu(rig.v10Sock);
    let mine: PortJson | undefined;
    await timeUntil(async () => (mine = (await ports10(rig)).find((p) => p.kind === 'qemu' && !p0.some((q) => q.id === p.id))) !== undefined, 5000);
    if (mine === undefined) throw new Error('the flooding VM got no port');
    const t0 = Date.now();
    await flood(rig, c, n);
    const rxDone = (p: PortJson | undefined): number => (p === undefined ? 0 : p.rxFrames + p.drops.runt + p.drops.giant + p.drops['rx-ring-full']);
    await timeUntil(async () => rxDone((await ports10(rig)).find((p) => p.id === mine?.id)) >= n, 120_000, 250);
    out.inputs += n;
    out.figure('frames/s taken', Math.round((n * 1000) / Math.max(1, Date.now() - t0)));
    const p1 = await ports10(rig);
    const v1 = await vlan10(rig);
    const me = p1.find((p) => p.id === mine?.id);
    out.check('every flood frame received or counted as dropped on its port', rxDone(me) === n, `rx ${me?.rxFrames} + drops ${rxDone(me) - (me?.rxFrames ?? 0)}; sent ${n}`);
    const d = (k: string): number => v1.counters[k] - v0.counters[k];
    out.figure('fdb-full', d('fdb-full'));
    out.figure('VLAN 10', Object.keys(v1.counters).filter((k) => d(k) !== 0).map((k) => `${k} +${d(k)}`).join(' '));
    out.check('every new source MAC learned or counted fdb-full', d('learned') + d('fdb-full') >= n && d('learned') + d('fdb-full') <= n + 50, `learned +${d('learned')}, fdb-full +${d('fdb-full')}; ${n} distinct MACs sent`);
    const stormed = me?.drops['storm-unknown'] ?? 0;
    out.figure('storm-unknown', stormed);
    const ringFull: string[] = [];
    for (const p of p1) {
      const before = p0.find((q) => q.id === p.id);
      if (p.id === mine.id || before === undefined) continue;
      // Counters that went back mean the port left and came back (a peer that flapped).
      const back = ['tx', ...Object.keys(p.drops)].filter((k) => (k === 'tx' ? p.txFrames < before.txFrames : p.drops[k] < (before.drops[k] ?? 0)));
      if (back.length > 0) {
        out.check(`${p.kind} port ${p.id} kept through the flood`, false, `${p.name}: ${back.map((k) => (k === 'tx' ? `tx ${before.txFrames} -> ${p.txFrames}` : `${k} ${before.drops[k]} -> ${p.drops[k]}`)).join(', ')}: the port was removed and made again`);
        continue;
      }
      const got = p.txFrames - before.txFrames + TX_DROPS.reduce((s, k) => s + (p.drops[k] ?? 0) - (before.drops[k] ?? 0), 0);
      const moved = Object.keys(p.drops).filter((k) => p.drops[k] !== before.drops[k]).map((k) => `${k} +${p.drops[k] - before.drops[k]}`);
      ringFull.push(`${p.name} tx +${p.txFrames - before.txFrames}${moved.length > 0 ? ` ${moved.join(' ')}` : ''}`);
      // A flood frame whose random destination happens to be a learned MAC is forwarded to that one port.
      const flooded = n - stormed;
      out.check(`flood frames sent or counted on ${p.kind} port ${p.id}`, got >= flooded - d('forwarded') && got <= flooded + BACKGROUND_SLACK, `${p.name}: sent + tx drops = ${got}; flood ${n}, ${stormed} dropped by storm-control, ${d('forwarded')} forwarded to one port`);
    }
    out.figure('ports', ringFull.join(', '));
    c.close();
    const gone = await timeUntil(async () => (await vlan10(rig)).macs <= v0.macs + 2, BOUNDS.drainMaxMs, 250);
    out.check('the flood MACs left with the port', gone >= 0, `VLAN 10 has ${(await vlan10(rig)).macs} MACs, ${v0.macs} before`);
  },
};
