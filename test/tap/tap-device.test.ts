// Tests for src/tap/tap-device.ts and src/linux/libc.ts against real TAP devices, network
// namespaces, a worker thread and less-privileged child processes (via setpriv).
// Runs in the ava test process; privileged tests are serial and clean up in t.teardown.

import test, { type ExecutionContext } from 'ava';
import koffi from 'koffi';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { isDivesError } from '../../src/core/errors.js';
import { ERRNO, errnoName } from '../../src/linux/libc.js';
import { TapDevice, tapPoll, tapRead, tapWrite } from '../../src/tap/tap-device.js';
import { NetnsFixture, ip, run, sweepStale } from '../helpers/netns.js';
import { privileged, privTest } from '../helpers/privileged.js';
import { within } from '../helpers/until.js';
import { arpFrame, icmpEcho, parseArp, parseIcmp } from '../helpers/frames.js';

const TAP_MODULE = new URL('../../src/tap/tap-device.js', import.meta.url).href;
const NS_IP = '192.0.2.1'; // TEST-NET-1: the namespace's end of the TAP
const OUR_IP = '192.0.2.2'; // the host this test plays on the fd side
const OUR_MAC = Buffer.from([0x02, 0xd1, 0x7e, 0x00, 0x00, 0x02]);
const BROADCAST = Buffer.alloc(6, 0xff);

test.before(async () => {
  if (privileged.ok) await sweepStale();
});

/**
 * Reads frames from the TAP (at rx[off...], so the readv path runs when off > 0) until
 * `onFrame` returns true or the time is up. Each poll blocks in poll(2) for up to 20 ms,
 * then yields to the event loop so child processes and timers keep running.
 */
function readUntil(fd: number, rx: Uint8Array, off: number, ms: number, onFrame: (f: Buffer) => boolean): Promise<boolean> {
  return within(() => {
    const p = tapPoll(fd, 20);
    if (p < 0) throw new Error(`tapPoll: ${errnoName(p)}`);
    for (let n = p > 0 ? tapRead(fd, rx, off, 2048) : 0; n !== 0; n = tapRead(fd, rx, off, 2048)) {
      if (n < 0) throw new Error(`tapRead: ${errnoName(n)}`);
      if (onFrame(Buffer.from(rx.buffer, rx.byteOffset + off, n))) return true;
    }
    return false;
  }, ms, { everyMs: 0 });
}

/** Answers ARP requests for OUR_IP and echo requests to it, as the host behind the TAP would. */
function respond(fd: number, f: Buffer): 'arp' | 'echo' | null {
  const arp = parseArp(f);
  if (arp?.op === 1 && arp.tpa === OUR_IP) {
    const reply = arpFrame(2, arp.sha, OUR_MAC, OUR_IP, arp.sha, arp.spa);
    return tapWrite(fd, reply, 0, reply.length) === reply.length ? 'arp' : null;
  }
  const icmp = parseIcmp(f);
  if (icmp?.type === 8 && icmp.dst === OUR_IP) {
    const reply = icmpEcho(0, f.subarray(6, 12), OUR_IP, icmp.src, icmp.id, icmp.seq, icmp.payload, OUR_MAC);
    return tapWrite(fd, reply, 0, reply.length) === reply.length ? 'echo' : null;
  }
  return null;
}

function isUp(name: string): boolean {
  return (Number.parseInt(readFileSync(`/sys/class/net/${name}/flags`, 'utf8'), 16) & 1) === 1;
}

function fixture(t: ExecutionContext): NetnsFixture {
  const fx = new NetnsFixture();
  t.teardown(() => fx.cleanup());
  return fx;
}

function hold(t: ExecutionContext, dev: TapDevice): TapDevice {
  t.teardown(() => dev.close());
  return dev;
}

function expectDivesError(t: ExecutionContext, fn: () => unknown, code: string, message: RegExp): void {
  const err = t.throws(fn);
  t.true(isDivesError(err), String(err));
  t.is((err as { code?: string }).code, code, String(err));
  t.regex(String((err as Error).message), message);
}

/** A TAP with IPv6 off, so the kernel sends nothing out of it on its own (no MLD, no DAD). */
async function quietTap(fx: NetnsFixture, name: string): Promise<void> {
  await fx.createTap(name);
  const knob = `/proc/sys/net/ipv6/conf/${name}/disable_ipv6`;
  if (existsSync(knob)) writeFileSync(knob, '1');
}

/** Runs TapDevice.open(name) in a child node started through setpriv with `setprivArgs`. */
async function openAs(setprivArgs: string[], name: string): Promise<{ ok?: boolean; created?: boolean; code?: string; message?: string }> {
  const code = 'const m = await import(process.argv[1]);'
    + 'try { const d = m.TapDevice.open(process.argv[2]); console.log(JSON.stringify({ ok: true, created: d.created })); d.close(); }'
    + 'catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }';
  const r = await run('setpriv', [...setprivArgs, '--', process.execPath, '--input-type=module', '-e', code, TAP_MODULE, name]);
  if (r.code !== 0) throw new Error(`child failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as { ok?: boolean; created?: boolean; code?: string; message?: string };
}

const WITHOUT_NET_ADMIN = ['--bounding-set=-net_admin', '--inh-caps=-net_admin'];

// --- no privilege needed -----------------------------------------------------------------

test('the errno values DiVES names are the ones libc uses', (t) => {
  for (const [name, value] of Object.entries(ERRNO)) t.is(koffi.os.errno[name], value, name);
  t.is(errnoName(-ERRNO.EBUSY), 'EBUSY');
  t.is(errnoName(ERRNO.ENOENT), 'ENOENT');
});

test('bad TAP names are rejected with EBADARG before the kernel is asked', (t) => {
  for (const name of ['', 'a'.repeat(16), 'ta/p', 'ta p', 'tap\t', 'ta:p', 'tap%d', '..']) {
    expectDivesError(t, () => TapDevice.open(name), 'EBADARG', /^tap ".*": /);
  }
  expectDivesError(t, () => TapDevice.open('a'.repeat(16)), 'EBADARG', /at most 15 bytes/);
});

test('the per-frame calls return -errno for a bad fd instead of throwing', (t) => {
  const buf = new Uint8Array(2048);
  t.is(tapRead(-1, buf, 0, 100), -ERRNO.EBADF);
  t.is(tapRead(-1, buf, 10, 100), -ERRNO.EBADF);
  t.is(tapWrite(-1, buf, 0, 60), -ERRNO.EBADF);
  t.is(tapWrite(-1, buf, 5, 60), -ERRNO.EBADF);
  t.is(tapPoll(1 << 20, 0), -ERRNO.EBADF); // not open: POLLNVAL
});

test('the per-frame calls refuse spans outside the buffer with -EINVAL', (t) => {
  const buf = new Uint8Array(100);
  t.is(tapRead(0, buf, -1, 10), -ERRNO.EINVAL);
  t.is(tapRead(0, buf, 100, 10), -ERRNO.EINVAL);
  t.is(tapRead(0, buf, 1.5, 10), -ERRNO.EINVAL);
  t.is(tapRead(0, buf, 0, 0), -ERRNO.EINVAL);
  t.is(tapWrite(1, buf, 50, 51), -ERRNO.EINVAL); // would read past the end
  t.is(tapWrite(1, buf, 0, Number.NaN), -ERRNO.EINVAL);
});

// --- real TAPs ---------------------------------------------------------------------------

privTest('opening a missing name creates a TAP that is up and disappears after close', async (t) => {
  const fx = fixture(t);
  const name = fx.ifname('abcdefgh'); // 15 bytes: the longest name Linux allows
  fx.trackLink(name);
  const tap = hold(t, TapDevice.open(name));
  t.true(tap.created);
  t.is(tap.name, name);
  t.true(tap.fd >= 0);
  t.true(isUp(name));
  t.regex(readFileSync(`/sys/class/net/${name}/tun_flags`, 'utf8'), /^0x1002$/m); // IFF_TAP | IFF_NO_PI, not persistent
  tap.close();
  tap.close();
  t.is(tap.fd, -1);
  t.true(tap.closed);
  t.false(existsSync(`/sys/class/net/${name}`));
});

privTest('attaching a persistent TAP works and close() leaves it in place', async (t) => {
  const fx = fixture(t);
  const name = fx.ifname('p0');
  await quietTap(fx, name);
  const tap = hold(t, TapDevice.open(name, { create: false }));
  t.false(tap.created);
  t.true(isUp(name));
  const rx = new Uint8Array(4096);
  t.is(tapPoll(tap.fd, 50), 0);
  t.is(tapRead(tap.fd, rx, 0, rx.length), 0); // EAGAIN: the fd is non-blocking
  t.is(tapRead(tap.fd, rx, 100, 2048), 0);
  tap.close();
  t.true(existsSync(`/sys/class/net/${name}`));
  const again = hold(t, TapDevice.open(name)); // and it can be attached again
  t.false(again.created);
});

privTest('create: false on a missing name throws ETAPNODEV and creates nothing', async (t) => {
  const fx = fixture(t);
  const name = fx.ifname('nx');
  fx.trackLink(name);
  expectDivesError(t, () => TapDevice.open(name, { create: false }), 'ETAPNODEV', /no such device; create it with `ip tuntap add .* mode tap`/);
  t.false(existsSync(`/sys/class/net/${name}`));
});

privTest('opening a TAP that is already held throws ETAPBUSY', async (t) => {
  const fx = fixture(t);
  const name = fx.ifname('b0');
  fx.trackLink(name);
  hold(t, TapDevice.open(name));
  expectDivesError(t, () => TapDevice.open(name), 'ETAPBUSY', /already holds it/);
  const persistent = fx.ifname('b1');
  await fx.createTap(persistent);
  hold(t, TapDevice.open(persistent));
  expectDivesError(t, () => TapDevice.open(persistent, { create: false }), 'ETAPBUSY', /device busy/);
});

privTest('a veth, a TUN or a multi-queue TAP name throws EBADARG saying what it is', async (t) => {
  const fx = fixture(t);
  const veth = fx.ifname('v0');
  await fx.createVeth(veth, fx.ifname('v1'));
  expectDivesError(t, () => TapDevice.open(veth), 'EBADARG', /network device that is not a TAP/);
  const tun = fx.ifname('u0');
  await fx.createTap(tun, { mode: 'tun' });
  expectDivesError(t, () => TapDevice.open(tun), 'EBADARG', /is a TUN device/);
  const mq = fx.ifname('m0');
  await fx.createTap(mq, { multiQueue: true });
  expectDivesError(t, () => TapDevice.open(mq), 'EBADARG', /multi-queue/);
});

privTest('frames written to the fd reach the TAP after it moved into a namespace, and the replies come back', async (t) => {
  const fx = fixture(t);
  const name = fx.ifname('t0');
  await fx.createTap(name);
  const tap = hold(t, TapDevice.open(name));
  const ns = await fx.addNs('a');
  await fx.moveToNs(name, ns, `${NS_IP}/24`);
  t.false(existsSync(`/sys/class/net/${name}`)); // gone from our namespace, yet the fd still works:

  const request = arpFrame(1, BROADCAST, OUR_MAC, OUR_IP, Buffer.alloc(6), NS_IP);
  t.is(tapWrite(tap.fd, request, 0, request.length), request.length);
  let nsMac: Buffer | null = null;
  // 1 MiB buffers are mmap()ed, so their addresses are above 2^32 and the iovec's high
  // half matters (small ones may sit low in the malloc heap).
  const rx = new Uint8Array(new SharedArrayBuffer(1 << 20));
  t.true(await readUntil(tap.fd, rx, 0, 5000, (f) => {
    const arp = parseArp(f);
    if (arp?.op !== 2 || arp.spa !== NS_IP) return false;
    nsMac = Buffer.from(arp.sha);
    return f.subarray(0, 6).equals(OUR_MAC);
  }), 'an ARP reply from the namespace');

  // An echo request written from the middle of a shared buffer (the writev path), the
  // reply read into the middle of another (the readv path).
  const payload = Buffer.from('dives tap round trip');
  const echo = icmpEcho(8, nsMac!, OUR_IP, NS_IP, 0x4d1, 7, payload, OUR_MAC);
  const tx = new Uint8Array(new SharedArrayBuffer(1 << 20));
  tx.set(echo, 1001);
  t.is(tapWrite(tap.fd, tx, 1001, echo.length), echo.length);
  t.true(await readUntil(tap.fd, rx, 777, 5000, (f) => {
    respond(tap.fd, f);
    const icmp = parseIcmp(f);
    return icmp?.type === 0 && icmp.src === NS_IP && icmp.id === 0x4d1 && icmp.seq === 7 && icmp.payload.equals(payload);
  }), 'an echo reply with our payload');
});

privTest('a ping from inside the namespace is answered through the TAP fd', async (t) => {
  const fx = fixture(t);
  const name = fx.ifname('t1');
  await fx.createTap(name);
  const tap = hold(t, TapDevice.open(name));
  const ns = await fx.addNs('b');
  await fx.moveToNs(name, ns, `${NS_IP}/24`);
  const seen = { arp: 0, echo: 0 };
  let done = false;
  const pinged = fx.ping(ns, OUR_IP, { count: 3, timeoutS: 2 }).finally(() => {
    done = true;
  });
  await readUntil(tap.fd, new Uint8Array(4096), 0, 15_000, (f) => {
    const what = respond(tap.fd, f);
    if (what !== null) seen[what]++;
    return done;
  });
  t.true(await pinged, 'ping got an answer');
  t.true(seen.arp >= 1, 'the namespace asked for our MAC with ARP');
  t.true(seen.echo >= 1, 'the echo request came out of the TAP');
});

privTest('a worker thread reads and writes frames on an fd the main thread opened', async (t) => {
  const fx = fixture(t);
  const name = fx.ifname('w0');
  await fx.createTap(name);
  const tap = hold(t, TapDevice.open(name));
  const ns = await fx.addNs('w');
  await fx.moveToNs(name, ns, `${NS_IP}/24`);
  const request = arpFrame(1, BROADCAST, OUR_MAC, OUR_IP, Buffer.alloc(6), NS_IP);
  // The worker gets only the fd number, like a TAP I/O thread.
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    import(workerData.url).then(({ tapPoll, tapRead, tapWrite }) => {
      const { fd, request } = workerData;
      const buf = new Uint8Array(new SharedArrayBuffer(8192));
      buf.set(request, 64);
      const wrote = tapWrite(fd, buf, 64, request.length);
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline) {
        if (tapPoll(fd, 100) <= 0) continue;
        for (let n = tapRead(fd, buf, 2000, 2048); n > 0; n = tapRead(fd, buf, 2000, 2048)) {
          const f = buf.subarray(2000, 2000 + n);
          if (f[12] === 0x08 && f[13] === 0x06 && f[21] === 2) return parentPort.postMessage({ wrote, reply: f.slice() });
        }
      }
      parentPort.postMessage({ wrote, reply: null });
    });`;
  const worker = new Worker(code, { eval: true, workerData: { url: TAP_MODULE, fd: tap.fd, request } });
  t.teardown(() => worker.terminate());
  const result = await new Promise<{ wrote: number; reply: Uint8Array | null }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  t.is(result.wrote, request.length);
  t.truthy(result.reply, 'the worker read an ARP reply');
  const arp = parseArp(Buffer.from(result.reply!));
  t.is(arp?.spa, NS_IP);
  t.is(arp?.tpa, OUR_IP);
});

privTest('a TAP deleted under the fd makes tapPoll readable and tapRead report an error', async (t) => {
  const fx = fixture(t);
  const name = fx.ifname('d0');
  await quietTap(fx, name);
  const tap = hold(t, TapDevice.open(name));
  await ip('link', 'del', name);
  t.is(tapPoll(tap.fd, 1000), 1);
  const r = tapRead(tap.fd, new Uint8Array(2048), 0, 2048);
  t.true(r < 0, `tapRead returned ${r}`);
  t.log(`tapRead after deletion: ${errnoName(r)}`);
  const frame = arpFrame(1, BROADCAST, OUR_MAC, OUR_IP, Buffer.alloc(6), NS_IP);
  t.true(tapWrite(tap.fd, frame, 0, frame.length) < 0);
});

privTest('an unprivileged user gets ETAPPERM', async (t) => {
  const fx = fixture(t);
  const name = fx.ifname('n0');
  await fx.createTap(name);
  // nobody, plus CAP_DAC_READ_SEARCH only so it can reach this node binary and dist/
  // wherever they live (e.g. under /root); it grants no write access to /dev/net/tun.
  const nobody = ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=+dac_read_search', '--ambient-caps=+dac_read_search'];
  const r = await openAs(nobody, name);
  t.is(r.code, 'ETAPPERM', JSON.stringify(r));
  t.regex(r.message ?? '', /permission denied/);
});

privTest('without CAP_NET_ADMIN a TAP owned by another user, or a new one, gives ETAPPERM with the fix in the message', async (t) => {
  const fx = fixture(t);
  const name = fx.ifname('r0');
  // Owned by nobody. (A persistent TAP with no owner and no group is open to anyone who
  // can open /dev/net/tun: the kernel checks CAP_NET_ADMIN only when an owner is set.)
  await fx.createTap(name, { user: 65534 });
  const r = await openAs(WITHOUT_NET_ADMIN, name);
  t.is(r.code, 'ETAPPERM', JSON.stringify(r));
  t.is(r.message, `tap ${name}: permission denied; run as root, grant CAP_NET_ADMIN, or create a persistent TAP owned by this user with \`ip tuntap add ${name} mode tap user $USER\``);
  const missing = await openAs(WITHOUT_NET_ADMIN, fx.ifname('r1'));
  t.is(missing.code, 'ETAPPERM', JSON.stringify(missing));
});

privTest('without CAP_NET_ADMIN a persistent TAP owned by this user attaches once it is up', async (t) => {
  const fx = fixture(t);
  const name = fx.ifname('o0');
  await fx.createTap(name, { user: 0 });
  const down = await openAs(WITHOUT_NET_ADMIN, name);
  t.is(down.code, 'ETAPPERM', JSON.stringify(down));
  t.regex(down.message ?? '', new RegExp(`run \`ip link set ${name} up\` as root`));
  await ip('link', 'set', name, 'up');
  t.deepEqual(await openAs(WITHOUT_NET_ADMIN, name), { ok: true, created: false });
});

privTest('the namespace fixture removes its namespaces and links, and sweepStale removes a dead run\'s', async (t) => {
  const fx = new NetnsFixture();
  t.teardown(() => fx.cleanup());
  const ns = await fx.addNs('c');
  const tapName = fx.ifname('c0');
  await fx.createTap(tapName);
  await fx.createVeth(fx.ifname('c1'), fx.ifname('c2'));
  await fx.moveToNs(fx.ifname('c2'), ns);
  const sleeper = fx.spawnIn(ns, ['sleep', '60']);
  t.true(await fx.exec(ns, ['true']).then((r) => r.code === 0));
  t.deepEqual(await sweepStale(), [], 'a live fixture is left alone');
  await fx.cleanup();
  await fx.cleanup();
  t.not(sleeper.exitCode ?? sleeper.signalCode, null);
  t.false((await ip('netns', 'list')).includes(ns));
  t.false(existsSync(`/sys/class/net/${tapName}`));
  t.false(existsSync(`/sys/class/net/${fx.ifname('c1')}`));

  // A namespace and TAP whose fixture has no registry entry look like a crashed run's.
  const orphanNs = `${fx.id}-orphan`;
  const orphanTap = fx.ifname('z0');
  t.teardown(async () => {
    await run('ip', ['netns', 'del', orphanNs]);
    await run('ip', ['link', 'del', orphanTap]);
  });
  await ip('netns', 'add', orphanNs);
  await ip('tuntap', 'add', orphanTap, 'mode', 'tap');
  t.deepEqual((await sweepStale()).sort(), [orphanNs, orphanTap].sort());
  t.false((await ip('netns', 'list')).includes(orphanNs));
});
