// Two real QEMU guests (TCG) ping each other through `dives start`: one joins
// with `-netdev socket,connect=` over TCP, the other with `-netdev stream` over
// a UNIX socket. `show macs` and `show ports` must then tell the truth.

import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DivesProcess } from '../helpers/dives-process.js';
import { freeTcpPort, Guest, guestUnavailableReason } from '../helpers/guest.js';

const unavailable = await guestUnavailableReason();
const underCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
if (unavailable !== undefined && !underCi) console.warn(`qemu-through-dives skipped: ${unavailable}`);
const guestTest = unavailable !== undefined && !underCi ? test.skip : test;

const A = { ip: '10.0.9.1/24', addr: '10.0.9.1', mac: '52:54:00:d1:7e:a1' };
const B = { ip: '10.0.9.2/24', addr: '10.0.9.2', mac: '52:54:00:d1:7e:b2' };

function startGuest(t: ExecutionContext, opts: Parameters<typeof Guest.start>[0]): Guest {
  const g = Guest.start(opts);
  t.teardown(() => g.kill());
  return g;
}

guestTest('a socket-netdev guest and a stream-netdev guest ping each other through DiVES', async (t) => {
  t.timeout(240_000);
  if (unavailable !== undefined) throw new Error(`the QEMU guest cannot run here: ${unavailable}`);
  const dir = mkdtempSync(join(tmpdir(), 'dives-qemu-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freeTcpPort();
  const sock = join(dir, 'vm-b.sock');
  const rc = join(dir, 'dives.rc');
  writeFileSync(rc, `vlan 10\nlisten 127.0.0.1 ${port}\nlisten unix ${sock}\n`);
  const dives = await DivesProcess.start(['-c', rc, '-u', dir]);
  t.teardown(() => dives.stop('SIGKILL'));

  const a = startGuest(t, { name: 'A', ip: A.ip, peer: B.addr, mac: A.mac, staySeconds: 20, netdev: ['-netdev', `socket,id=n0,connect=127.0.0.1:${port}`] });
  const b = startGuest(t, {
    name: 'B', ip: B.ip, peer: A.addr, mac: B.mac, staySeconds: 20,
    netdev: ['-netdev', `stream,id=n0,server=off,addr.type=unix,addr.path=${sock}`],
  });
  const [la, lb] = await Promise.all([
    a.waitFor(/^DIVES-PING-(OK|FAIL) /, 180_000),
    b.waitFor(/^DIVES-PING-(OK|FAIL) /, 180_000),
  ]);
  t.is(la, `DIVES-PING-OK ${B.addr}`, a.console);
  t.is(lb, `DIVES-PING-OK ${A.addr}`, b.console);

  const macs = await dives.command('vlan 10 show macs', /52:54:00:d1:7e:b2[^\n]*\n/);
  t.regex(macs, /52:54:00:d1:7e:a1 +qemu:127\.0\.0\.1:\d+#\d+/);
  t.regex(macs, /52:54:00:d1:7e:b2 +qemu:unix:/);
  const ports = await dives.command('json vlan 10 show ports', /\}\s*$/m);
  const list = JSON.parse(ports.trim()).ports as { rxFrames: number; txFrames: number }[];
  t.is(list.length, 2);
  t.true(list.every((p) => p.rxFrames >= 2 && p.txFrames >= 2), ports);
  t.is(await dives.stop(), 0);
});
