// Scenario: the static peer killed with SIGKILL and started again. Measures how long the
// switch under test takes to show it down (its expiry) and, from the restart's spawn, how
// long until frames cross between the two switches again in both directions (a VM on each
// side's VLAN 20 sends probes every 20 ms). The ping between the TAPs must not notice. Run by
// test/hostile/run-inside.ts on the runner's main thread.

import { BOUNDS } from '../hostile-config.js';
import type { Rig } from '../rig.js';
import type { QemuClient } from '../../helpers/qemu-client.js';
import type { Scenario, ScenarioOut } from '../scenario.js';
import { within } from '../../helpers/until.js';
import { BCAST, markerFrame } from '../../helpers/frames.js';

const PROBE_EVERY_MS = 20;

function probe(marker: string, src: number): Buffer {
  return markerFrame(BCAST, Buffer.from([0x02, 0xd1, 0x7e, 0x00, 0x15, src]), marker, 64);
}

function seen(c: QemuClient, marker: string): boolean {
  return c.frames.some((f) => f.subarray(14, 14 + marker.length).toString('latin1') === marker);
}

/** Probes both ways until each side got one: ms since `from`, or -1 after timeoutMs. */
async function crossBothWays(there: QemuClient, here: QemuClient, tag: string, from: number, timeoutMs: number): Promise<number> {
  const toHere = `heal-${tag}-in`;
  const toThere = `heal-${tag}-out`;
  let inAt = 0;
  let outAt = 0;
  const crossed = await within(() => {
    if (inAt === 0 && seen(here, toHere)) inAt = Date.now();
    if (outAt === 0 && seen(there, toThere)) outAt = Date.now();
    if (inAt > 0 && outAt > 0) return true;
    there.send(probe(toHere, 1));
    here.send(probe(toThere, 2));
    return false;
  }, Math.max(0, timeoutMs - (Date.now() - from)), { everyMs: PROBE_EVERY_MS });
  return crossed ? Math.max(inAt, outAt) - from : -1;
}

export const peerRestart: Scenario = {
  name: 'peer-kill-restart',
  what: 'kill -9 of the static peer, then a restart: time until the switch shows it down, and until frames cross again',
  downsPeer: true,
  async run(rig: Rig, out: ScenarioOut): Promise<void> {
    const detects: number[] = [];
    const heals: number[] = [];
    for (let cycle = 1; cycle <= rig.sizes.peerKills; cycle++) {
      const killedAt = Date.now();
      rig.peer.signal('SIGKILL');
      await rig.peer.exited;
      const detect = await rig.waitPeerState('down', BOUNDS.peerDetectMaxMs + 10_000, 50);
      detects.push(detect < 0 ? -1 : Date.now() - killedAt);
      const spawnedAt = Date.now();
      await rig.startPeer();
      const there = await rig.qemu(rig.peerSock);
      rig.reader.frames.length = 0;
      const heal = await crossBothWays(there, rig.reader, String(cycle), spawnedAt, BOUNDS.peerHealMaxMs + 20_000);
      heals.push(heal);
      there.close();
      rig.reader.frames.length = 0;
      out.inputs += 2;
    }
    out.figure('detect ms', detects.join(', '));
    out.figure('heal ms', heals.join(', '));
    out.check(`killed peer shown down within ${BOUNDS.peerDetectMaxMs} ms`, detects.every((d) => d >= 0 && d <= BOUNDS.peerDetectMaxMs), `detect ${detects.join(', ')} ms`);
    out.check(`frames cross both ways within ${BOUNDS.peerHealMaxMs} ms of the restart`, heals.every((h) => h >= 0 && h <= BOUNDS.peerHealMaxMs), `heal ${heals.join(', ')} ms (from the spawn of the new peer process)`);
    out.check('the peer is up again', (await rig.peerInfo())?.state === 'up', `state ${(await rig.peerInfo())?.state}`);
  },
};
