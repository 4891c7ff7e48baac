// Tests for the real-QEMU guest fixture: two TCG guests wired back to back with QEMU's own
// socket and stream netdevs ping each other, so later tests can put DiVES in the middle.
// Runs on the test runner's main thread; each guest is a qemu-system-x86_64 child process.

import test, { type ExecutionContext } from 'ava';
import { freeTcpPort, Guest, guestUnavailableReason, waitForListening, type GuestOptions } from '../helpers/guest.js';

const unavailable = await guestUnavailableReason();
const underCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
if (unavailable !== undefined && !underCi) console.warn(`qemu-guest tests skipped: ${unavailable}`);
// Under CI a missing guest is a failure, not a skip: the tests run and report the reason.
const guestTest = unavailable !== undefined && !underCi ? test.skip : test;

const A = { ip: '10.0.7.1/24', addr: '10.0.7.1', mac: '52:54:00:d1:7e:01' };
const B = { ip: '10.0.7.2/24', addr: '10.0.7.2', mac: '52:54:00:d1:7e:02' };
const BOOT_MS = 120_000;

function requireGuests(): void {
  if (unavailable !== undefined) throw new Error(`the QEMU guest cannot run here: ${unavailable}`);
}

function startGuest(t: ExecutionContext, opts: GuestOptions): Guest {
  const guest = Guest.start(opts);
  t.teardown(() => guest.kill());
  return guest;
}

/** Waits for `guest`'s verdict on `peer` and returns the seconds from `startedAt` to it. */
async function pingVerdict(t: ExecutionContext, guest: Guest, peer: string, startedAt: number): Promise<number> {
  const line = await guest.waitFor(new RegExp(`^DIVES-PING-(OK|FAIL) ${peer.replace(/\./g, '\\.')}$`), BOOT_MS);
  t.is(line, `DIVES-PING-OK ${peer}`, `guest ${guest.name}:\n${guest.console}`);
  const seconds = (Date.now() - startedAt) / 1000;
  t.log(`guest ${guest.name}: boot to ping ${seconds.toFixed(1)} s`);
  return seconds;
}

/**
 * Boots guest A listening on `listenNetdev(port)`, waits until QEMU listens, then boots
 * guest B with `connectNetdev(port)`, and expects each to reach the other.
 */
async function pingPair(t: ExecutionContext, listenNetdev: (port: number) => string, connectNetdev: (port: number) => string): Promise<void> {
  t.timeout(240_000);
  requireGuests();
  const port = await freeTcpPort();
  const startedA = Date.now();
  const a = startGuest(t, { name: 'A', ip: A.ip, peer: B.addr, mac: A.mac, netdev: ['-netdev', listenNetdev(port)], staySeconds: 20 });
  // B's connect is refused (and its QEMU exits) if it comes before A's listen.
  await waitForListening(port, 30_000);
  const startedB = Date.now();
  const b = startGuest(t, { name: 'B', ip: B.ip, peer: A.addr, mac: B.mac, netdev: ['-netdev', connectNetdev(port)], staySeconds: 20 });
  t.is(await a.waitFor(/^DIVES-READY /, BOOT_MS), `DIVES-READY ${A.addr}`);
  t.is(await b.waitFor(/^DIVES-READY /, BOOT_MS), `DIVES-READY ${B.addr}`);
  await Promise.all([pingVerdict(t, a, B.addr, startedA), pingVerdict(t, b, A.addr, startedB)]);
}

guestTest('two guests on a QEMU socket pair ping each other', async (t) => {
  await pingPair(
    t,
    (port) => `socket,id=n0,listen=127.0.0.1:${port}`,
    (port) => `socket,id=n0,connect=127.0.0.1:${port}`,
  );
});

guestTest('two guests on a QEMU stream netdev pair ping each other', async (t) => {
  await pingPair(
    t,
    (port) => `stream,id=n0,server=on,addr.type=inet,addr.host=127.0.0.1,addr.port=${port}`,
    (port) => `stream,id=n0,server=off,addr.type=inet,addr.host=127.0.0.1,addr.port=${port}`,
  );
});

guestTest('a guest whose NIC is wired to nobody reports DIVES-PING-FAIL and powers off', async (t) => {
  t.timeout(240_000);
  requireGuests();
  const port = await freeTcpPort();
  const lonely = startGuest(t, {
    name: 'lonely',
    ip: A.ip,
    peer: B.addr,
    mac: A.mac,
    netdev: ['-netdev', `socket,id=n0,listen=127.0.0.1:${port}`],
    waitSeconds: 3,
    staySeconds: 1,
  });
  t.is(await lonely.waitFor(/^DIVES-PING-(OK|FAIL) /, BOOT_MS), `DIVES-PING-FAIL ${B.addr}`);
  // The guest ends itself after dives.stay, so an orphaned QEMU cannot outlive its test for long.
  t.is(await lonely.waitExit(30_000), 0);
});
