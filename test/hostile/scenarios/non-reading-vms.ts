// Scenario: VMs that connect to the switch's VLAN 20 listener and never read, while another
// VM broadcasts 1514-byte frames: each silent VM's socket and then its tx ring fill, and every
// broadcast must be counted for each of them as sent or ring-full. When they hang up, their
// memory must come back (the memory-heavy check the runner adds). Run by
// test/hostile/run-inside.ts on the runner's main thread.

import net from 'node:net';
import { once } from 'node:events';
import { BOUNDS } from '../hostile-config.js';
import type { PortJson, Rig } from '../rig.js';
import { BCAST, markerFrame } from '../../helpers/frames.js';
import { sleep, timeUntil, type Scenario, type ScenarioOut } from '../scenario.js';

const FRAME = 1514;
const BATCH = 50;
const PAUSE_MS = 5;

async function ports20(rig: Rig): Promise<PortJson[]> {
  return (await rig.ctl<{ ports: PortJson[] }>('vlan 20 show ports')).ports;
}

/** A broadcast of FRAME bytes with its QEMU length word in front, ready for the socket. */
function broadcast(n: number): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(FRAME, 0);
  return Buffer.concat([len, markerFrame(BCAST, Buffer.from([0x02, 0xd1, 0x7e, 0x00, 0x14, 0x01]), `hostile-bcast-${n}`, FRAME)]);
}

export const nonReadingVms: Scenario = {
  name: 'non-reading-vms',
  what: 'VMs that connect and never read while another VM broadcasts 1514-byte frames',
  memoryHeavy: true,
  async run(rig: Rig, out: ScenarioOut): Promise<void> {
    const k = rig.sizes.nonReadingVms;
    const m = rig.sizes.nonReadingBroadcasts;
    const p0 = await ports20(rig);
    const silent: net.Socket[] = [];
    for (let i = 0; i < k; i++) {
      const s = net.connect(rig.v20Sock);
      s.on('error', () => undefined);
      await once(s, 'connect');
      // Paused with no 'data' listener: nothing is read, so the kernel's buffer fills, then the switch's ring.
      s.pause();
      silent.push(s);
    }
    const sender = await rig.qemu(rig.v20Sock);
    const all = async (): Promise<PortJson[]> => (await ports20(rig)).filter((p) => p.kind === 'qemu' && !p0.some((q) => q.id === p.id));
    await timeUntil(async () => (await all()).length === k + 1, BOUNDS.drainMaxMs, 100);
    for (let i = 0; i < m; i += BATCH) {
      sender.socket.write(Buffer.concat(Array.from({ length: Math.min(BATCH, m - i) }, (_, j) => broadcast(i + j))));
      await sleep(PAUSE_MS);
    }
    out.inputs += k + m;
    let mine: PortJson | undefined;
    await timeUntil(async () => (mine = (await all()).find((p) => p.rxFrames >= m)) !== undefined, 30_000, 200);
    await sleep(500);
    const ports = await all();
    const silentPorts = ports.filter((p) => p.id !== mine?.id);
    const wrong = silentPorts.filter((p) => p.txFrames + p.drops['ring-full'] !== m);
    const ringFull = silentPorts.reduce((s, p) => s + p.drops['ring-full'], 0);
    out.figure('ring-full', ringFull);
    out.figure('RSS peak MiB', Math.round(rig.sampler.peakSince(0).rssKiB / 1024));
    out.check('the broadcaster\'s frames all received', mine !== undefined, `${ports.map((p) => p.rxFrames).join(',')} received, ${m} sent`);
    out.check('every broadcast sent or counted ring-full for each silent VM', silentPorts.length === k && wrong.length === 0, `${silentPorts.length} silent ports; ${wrong.length} whose sent + ring-full ≠ ${m} (${wrong.slice(0, 3).map((p) => `${p.txFrames}+${p.drops['ring-full']}`).join(', ')})`);
    for (const s of silent) s.destroy();
    sender.close();
    rig.reader.frames.length = 0;
    const gone = await timeUntil(async () => (await all()).length === 0, BOUNDS.drainMaxMs, 250);
    out.check('the silent VMs\' ports gone after they hung up', gone >= 0, `${(await all()).length} left`);
  },
};
