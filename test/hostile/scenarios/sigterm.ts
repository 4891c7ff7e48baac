// Scenario, always the last: SIGTERM to the switch under test while VMs flood both VLANs
// (broadcasts to the TAPs, a VM and the peer). It must exit 0 within its bound, having removed
// its control and listener sockets and left alone the TAPs it did not create. Run by
// test/hostile/run-inside.ts on the runner's main thread, after the run's "after" figures.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BOUNDS } from '../hostile-config.js';
import { startFlood } from '../../helpers/qemu-client.js';
import { BCAST, frame } from '../../helpers/frames.js';
import type { Rig } from '../rig.js';
import { sleep, type Scenario, type ScenarioOut } from '../scenario.js';

function broadcast(size: number, src: number): Buffer {
  return frame({ dst: BCAST, src: Buffer.from([0x02, 0xd1, 0x7e, 0x00, 0x16, src]), padTo: size });
}

export const sigtermUnderTraffic: Scenario = {
  name: 'sigterm-under-traffic',
  what: 'SIGTERM while VMs flood both VLANs: time to exit, exit code, sockets removed, TAPs left',
  endsSwitch: true,
  async run(rig: Rig, out: ScenarioOut): Promise<void> {
    const c10 = await rig.qemu(rig.v10Sock);
    const c20 = await rig.qemu(rig.v20Sock);
    const stops = [startFlood(c10, broadcast(60, 1)), startFlood(c20, broadcast(1514, 2))];
    await sleep(1500);
    const sentAt = Date.now();
    rig.sut.signal('SIGTERM');
    const exit = await Promise.race([rig.sut.exited, sleep(15_000).then(() => null)]);
    const ms = exit === null ? -1 : exit.at - sentAt;
    if (exit === null) rig.sut.signal('SIGKILL');
    c10.close();
    c20.close();
    await Promise.all(stops.map((s) => s()));
    out.inputs += 1;
    out.figure('exit ms', ms);
    out.check(`exits within ${BOUNDS.sigtermExitMaxMs} ms`, ms >= 0 && ms <= BOUNDS.sigtermExitMaxMs, ms < 0 ? 'still running after 15 s (killed)' : `${ms} ms`);
    out.check('exit code 0', exit?.code === 0, `code ${exit?.code}, signal ${exit?.signal}`);
    const left = ['dives.ctl', 'v10.sock', 'v20.sock'].filter((f) => existsSync(join(rig.sutDir, f)));
    out.check('control and listener sockets removed', left.length === 0, left.length === 0 ? 'none left' : `left: ${left.join(', ')}`);
    out.check('the TAP it did not create is left in place', existsSync(`/sys/class/net/${rig.tapC}`), rig.tapC);
  },
};
