// A real switch (piscina forwarding threads, the QEMU I/O thread, rings) with
// QEMU-protocol clients as VMs, drilling the forwarding threads' restart budget: a
// frame that kills its forwarding thread is read again by every restart, so after the
// budget its VLAN goes down and says why, the thread carries on for the VLAN it shares
// with it, and a VLAN on another thread loses nothing throughout.

import test from 'ava';
import { Switch } from '../../src/switch/switch.js';
import { QemuClient } from '../helpers/qemu-client.js';
import { markerFrame } from '../helpers/frames.js';
import { sleep, until } from '../helpers/until.js';
import { freeTcpPort } from '../helpers/guest.js';

const BCAST = 'ff:ff:ff:ff:ff:ff';
const mac = (n: number): string => `02:00:00:00:00:${n.toString(16).padStart(2, '0')}`;

/** Two VMs on a listener of `vid`; their ports are placed (and the VLAN on a thread) once both are attached. */
async function vms(t: import('ava').ExecutionContext, sw: Switch, vid: number): Promise<[QemuClient, QemuClient]> {
  const port = await freeTcpPort();
  await sw.listen(vid, { kind: 'tcp', host: '127.0.0.1', port });
  const pair: QemuClient[] = [];
  for (let i = 0; i < 2; i++) {
    const c = await QemuClient.connect({ port });
    t.teardown(() => c.close());
    pair.push(c);
  }
  await until(() => sw.qemu.livePorts(vid) === 2, 10_000, `VLAN ${vid}'s ports`);
  return pair as [QemuClient, QemuClient];
}

test('a frame that kills its forwarding thread takes only its VLAN down after the budget; the VLAN sharing the thread comes back, another thread\'s VLAN loses nothing', async (t) => {
  t.timeout(60_000);
  const logs: string[] = [];
  const keep = (m: string): void => void logs.push(m);
  const sw = new Switch({ log: { debug: () => {}, info: () => {}, warn: keep, error: keep }, forwardingThreads: 2, cpuAffinity: false });
  t.teardown(() => sw.close());
  const [a10, b10] = await vms(t, sw, 10);
  const [a20, b20] = await vms(t, sw, 20);
  const [a30, b30] = await vms(t, sw, 30);
  const t10 = sw.pool.threadOf(10);
  t.is(sw.pool.threadOf(30), t10, 'VLANs 10 and 30 share a thread');
  t.not(sw.pool.threadOf(20), t10, 'VLAN 20 has another');

  // VLAN 20 carries a frame every 10 ms for the whole drill.
  let sent20 = 0;
  let steady = true;
  const traffic = (async () => {
    while (steady) {
      a20.send(markerFrame(BCAST, mac(20), `steady-${sent20++}`));
      await sleep(10);
    }
  })();

  await sw.crashOnFrame(10, mac(0xde));
  a10.send(markerFrame(BCAST, mac(0xde), 'poison'));
  await until(() => sw.pool.downReason(10) !== null, 10_000, 'VLAN 10 to go down');
  const reason = sw.pool.downReason(10) ?? '';
  t.regex(reason, /^died 4 times within 60 s, last: .*code: 70, on a frame from port \d+$/);
  t.true(logs.some((l) => l.startsWith('VLAN 10 is down: died 4 times within 60 s')), logs.join('\n'));

  // show vlans says so; show threads says the thread restarted three times and runs again.
  const vlans = await sw.showVlans();
  t.like(vlans.find((v) => v.vid === 10), { state: 'down', reason });
  t.like(vlans.find((v) => v.vid === 30), { state: 'up' });
  const thread = (await sw.showThreads()).find((x) => x.name === t10?.name);
  t.like(thread, { state: 'up', vlans: [10, 30], counters: { restarts: 3 } });
  t.regex(thread?.lastDeath ?? '', /code: 70/);

  // VLAN 30 forwards again on the revived thread; VLAN 10's frames are dropped and counted.
  // A probe each poll, since the thread may still be coming back when the first is sent.
  await until(() => {
    if (b30.frames.some((f) => f.includes('after'))) return true;
    a30.send(markerFrame(BCAST, mac(30), 'after'));
    return false;
  }, 10_000, 'VLAN 30 to forward again', { everyMs: 50 });
  const before = b10.frames.length;
  a10.send(markerFrame(BCAST, mac(10), 'into-a-down-vlan'));
  await sleep(300);
  t.is(b10.frames.length, before, 'nothing crosses a VLAN that is down');
  const noVlan = (await sw.showThreads()).find((x) => x.name === t10?.name)?.counters['no-vlan'] ?? 0;
  t.true(noVlan >= 2, `the poison frame and the one after it are counted as no-vlan (${noVlan})`);

  steady = false;
  await traffic;
  await until(() => b20.frames.length === sent20, 3000, `all ${sent20} frames of VLAN 20`, { detail: () => `got ${b20.frames.length}` });
  t.is(b20.frames.length, sent20, 'VLAN 20 lost no frame while the other thread died four times');
});
