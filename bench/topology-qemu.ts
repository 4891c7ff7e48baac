// Bench topology for QEMU: two TCG guests through DiVES (each on a `listen` port of one
// VLAN, `-netdev socket,connect=`) against the same two guests on QEMU's own direct socket
// pair (listen/connect). The guests boot a bench-only /init (bench/guest-bench-init.sh)
// packed into a copy of the test guest's initramfs; the client guest measures ping RTT
// and a bulk TCP transfer with busybox dd | nc. Runs on the bench's main thread.

import { copyFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path, { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DivesProcess } from '../test/helpers/dives-process.js';
import { ensureGuestImage, freeTcpPort, Guest, waitForListening, type GuestImage } from '../test/helpers/guest.js';
import { must, row, SECONDS, type Figures, type Section } from './bench-kit.js';

const CLIENT = { ip: '10.0.8.1/24', addr: '10.0.8.1', mac: '52:54:00:be:0c:01' };
const SERVER = { ip: '10.0.8.2/24', addr: '10.0.8.2', mac: '52:54:00:be:0c:02' };
const PINGS = 200;
const BOOT_MS = 180_000;

/** The bench init beside this file's source (the compiled file runs from dist/bench). */
function benchInit(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'bench', 'guest-bench-init.sh');
    if (existsSync(candidate)) return candidate;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('bench: cannot find bench/guest-bench-init.sh');
    dir = up;
  }
}

/**
 * The test guest's kernel and initramfs (built or cached by build-guest.sh), with the
 * initramfs unpacked, its /init replaced by the bench init and /bench.conf added, and
 * packed again into `dir`. The test fixture itself is left as it is.
 */
async function benchImage(dir: string): Promise<GuestImage> {
  const base = await ensureGuestImage();
  const root = join(dir, 'rd');
  mkdirSync(root);
  await must('sh', ['-c', 'cd "$1" && gzip -dc "$2" | cpio -idm --quiet', 'sh', root, base.initrd]);
  copyFileSync(benchInit(), join(root, 'init'));
  chmodSync(join(root, 'init'), 0o755);
  writeFileSync(join(root, 'bench.conf'), `client_ip=${CLIENT.addr}\nseconds=${SECONDS}\npings=${PINGS}\nport=5001\n`);
  const initrd = join(dir, 'initrd.gz');
  await must('sh', ['-c', 'cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 | gzip -1 > "$2"', 'sh', root, initrd]);
  return { kernel: base.kernel, initrd };
}

/** Boots the server guest, then the client; waits for the client's figures and the server's byte count. */
async function guestPair(image: GuestImage, serverNetdev: string, clientNetdev: string, beforeClient?: () => Promise<void>): Promise<Figures> {
  const guests: Guest[] = [];
  try {
    const started = Date.now();
    const server = Guest.start({ name: 'server', ip: SERVER.ip, peer: CLIENT.addr, mac: SERVER.mac, netdev: ['-netdev', serverNetdev], image });
    guests.push(server);
    await beforeClient?.();
    const client = Guest.start({ name: 'client', ip: CLIENT.ip, peer: SERVER.addr, mac: CLIENT.mac, netdev: ['-netdev', clientNetdev], image, waitSeconds: 120 });
    guests.push(client);
    const failed = client.waitFor(/^BENCH-ERROR /, BOOT_MS + 60_000).then((l) => Promise.reject(new Error(`client guest: ${l}\n${client.console}`)), () => new Promise<never>(() => {}));
    const rtt = await Promise.race([client.waitFor(/^BENCH-RTT /, BOOT_MS), failed]);
    const bootedS = (Date.now() - started) / 1000;
    const secs = await Promise.race([client.waitFor(/^BENCH-BULK-SECONDS /, (SECONDS + 60) * 1000), failed]);
    const bytes = await server.waitFor(/^BENCH-BULK-BYTES /, 30_000);
    const medianMs = Number(/^BENCH-RTT [\d.]+\/[\d.]+\/[\d.]+\/([\d.]+) ms/.exec(rtt)?.[1]);
    const seconds = Number(secs.split(' ')[1]);
    const received = Number(bytes.split(' ')[1]);
    return {
      tcpGbps: (received * 8) / seconds / 1e9,
      udpFps: NaN,
      udpLoss: NaN,
      rttUs: medianMs * 1000,
      extra: { bootToRttSeconds: bootedS, bulkBytes: received, bulkSeconds: seconds, rttMinAvgMaxMedian: rtt.slice('BENCH-RTT '.length) },
    };
  } finally {
    await Promise.all(guests.map((g) => g.kill()));
  }
}

async function direct(image: GuestImage): Promise<Figures> {
  const port = await freeTcpPort();
  // The client's connect is refused (and its QEMU exits) if it comes before the listen.
  return guestPair(image, `socket,id=n0,listen=127.0.0.1:${port}`, `socket,id=n0,connect=127.0.0.1:${port}`, () => waitForListening(port, 30_000));
}

async function throughDives(image: GuestImage, dir: string): Promise<Figures> {
  const [ps, pc] = [await freeTcpPort(), await freeTcpPort()];
  const rc = join(dir, 'dives.rc');
  writeFileSync(rc, `vlan 10\nlisten 127.0.0.1 ${ps}\nlisten 127.0.0.1 ${pc}\n`);
  const sw = await DivesProcess.start(['--no-console', '-c', rc, '-u', dir]);
  try {
    if (!/DiVES switch up/.test(sw.stderr)) throw new Error(`dives did not start:\n${sw.stderr}`);
    return await guestPair(image, `socket,id=n0,connect=127.0.0.1:${ps}`, `socket,id=n0,connect=127.0.0.1:${pc}`);
  } finally {
    await sw.stop();
  }
}

/** Two QEMU guests through DiVES against QEMU's direct socket pair, one after the other. */
export async function qemu(): Promise<Section> {
  const dir = mkdtempSync(join(tmpdir(), 'dives-bench-qemu-'));
  try {
    const image = await benchImage(dir);
    return {
      title: 'QEMU: guest ↔ guest (TCG), -netdev socket',
      note: `TCP = busybox dd | nc for ${SECONDS} s, bytes the sink received / the client's elapsed time; RTT = median of busybox ping ×${PINGS}, 20 ms apart; no UDP-64 (busybox has no UDP sender)`,
      dives: await row('DiVES, 2 QEMU listen ports, one VLAN', () => throughDives(image, dir)),
      peers: [await row('QEMU socket pair (listen/connect)', () => direct(image))],
    };
  } catch (err) {
    // No guest image (no QEMU, no kernel package reachable): say so in the table, not by crashing the bench.
    const message = err instanceof Error ? err.message : String(err);
    const none = { tcpGbps: NaN, udpFps: NaN, udpLoss: NaN, rttUs: NaN, extra: { error: message } };
    console.error(`bench: QEMU topology skipped: ${message}`);
    return { title: 'QEMU: skipped', dives: { name: 'DiVES (no guest image)', figures: none }, peers: [] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
