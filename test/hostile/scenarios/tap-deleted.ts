// Scenario: the third TAP of VLAN 10 deleted underneath the switch (`ip link del`) and made
// again under the same name, several times. `show taps` must call it gone, then up again once
// it is back (src/tap/tap-watch.ts looks once a second), the log must say both, and nothing
// may be left behind (the runner's fd and thread checks). Run by test/hostile/run-inside.ts on
// the runner's main thread.

import { BOUNDS } from '../hostile-config.js';
import { ip } from '../../helpers/netns.js';
import type { Rig } from '../rig.js';
import { timeUntil, type Scenario, type ScenarioOut } from '../scenario.js';

interface TapJson {
  name: string;
  state: string;
}

async function tapState(rig: Rig): Promise<string | undefined> {
  const r = await rig.ctl<{ taps: TapJson[] }>('show taps');
  return r.taps.find((t) => t.name === rig.tapC)?.state;
}

export const tapDeleted: Scenario = {
  name: 'tap-deleted',
  what: 'a TAP of the ping\'s VLAN deleted underneath the switch and made again under its name',
  async run(rig: Rig, out: ScenarioOut): Promise<void> {
    const ns = rig.plan.nsSwitch;
    const detach: number[] = [];
    const reattach: number[] = [];
    const mark = rig.sut.lines;
    for (let cycle = 0; cycle < rig.sizes.tapDeletes; cycle++) {
      await ip('-n', ns, 'link', 'del', 'dev', rig.tapC);
      detach.push(await timeUntil(async () => (await tapState(rig)) === 'gone', BOUNDS.tapDetachMaxMs + 5000, 50));
      await ip('-n', ns, 'tuntap', 'add', 'dev', rig.tapC, 'mode', 'tap');
      await ip('-n', ns, 'link', 'set', 'dev', rig.tapC, 'up');
      reattach.push(await timeUntil(async () => (await tapState(rig)) === 'up', BOUNDS.tapReattachMaxMs + 5000, 50));
      out.inputs += 2;
    }
    out.figure('gone after ms', detach.join(', '));
    out.figure('up again after ms', reattach.join(', '));
    out.check(`show taps calls a deleted TAP gone within ${BOUNDS.tapDetachMaxMs} ms`, detach.every((t) => t >= 0 && t <= BOUNDS.tapDetachMaxMs), `${detach.join(', ')} ms`);
    out.check(`the re-created TAP is attached again within ${BOUNDS.tapReattachMaxMs} ms`, reattach.every((t) => t >= 0 && t <= BOUNDS.tapReattachMaxMs), `${reattach.join(', ')} ms`);
    // `show taps` may say up a moment before the line reaches us.
    const count = (what: string): number => rig.sut.linesMatching(new RegExp(`tap ${rig.tapC}: ${what}`), mark).length;
    await timeUntil(() => count('the device is back') >= rig.sizes.tapDeletes, 2000);
    const detached = count('detached');
    const back = count('the device is back');
    out.check('the log says detached and back, once a cycle', detached === rig.sizes.tapDeletes && back === rig.sizes.tapDeletes, `${detached} "detached", ${back} "is back" lines for ${rig.sizes.tapDeletes} cycles`);
  },
};
