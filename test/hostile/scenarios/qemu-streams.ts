// Scenarios: hostile QEMU streams on the switch's TCP listener of VLAN 20. First the length
// headers the framer must refuse (0, 13, 65536, 69633, 0xffffffff, 1..12, anything over the
// maximum), each after a valid frame on half the connections, plus 65535 as the control
// that must pass; then thousands of connections held at once: idle, half-closed (FIN sent
// first), and a length followed by silence. Run by test/hostile/run-inside.ts on the
// runner's main thread.

import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { once } from 'node:events';
import { BOUNDS } from '../hostile-config.js';
import { QEMU_TCP_PORT, SW_ADDR, type ListenerJson, type Rig } from '../rig.js';
import { BCAST, markerFrame as frameWithMarker } from '../../helpers/frames.js';
import { sleep, timeUntil, type Scenario, type ScenarioOut } from '../scenario.js';

const PARALLEL = 25;
const OPEN_BATCH = 100;

interface LengthKind {
  name: string;
  len: (rig: Rig) => number;
  /** The switch must keep the connection (a valid length) rather than close it. */
  valid?: boolean;
}

const KINDS: LengthKind[] = [
  { name: '0', len: () => 0 },
  { name: '13', len: () => 13 },
  { name: '65536', len: () => 65536 },
  { name: '69633', len: () => 69633 },
  { name: '0xffffffff', len: () => 0xffffffff },
  { name: '1..12', len: (rig) => rig.fz.int(1, 12) },
  { name: '65537..0xfffffffe', len: (rig) => rig.fz.int(65537, 0xfffffffe) },
  { name: '65535 (valid)', len: () => 65535, valid: true },
];

function header(len: number): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt32BE(len >>> 0, 0);
  return h;
}

/** A broadcast frame carrying `marker`, as a VM would send it. */
function markerFrame(marker: string, size = 64): Buffer {
  return frameWithMarker(BCAST, Buffer.from([0x02, 0xd1, 0x7e, 0x00, 0x14, 0x07]), marker, size);
}

/** Sockets the other side closed (or that failed), from the moment they were made: a refusal may come before 'connect' resolves. */
const CLOSED = new WeakSet<net.Socket>();

async function connectTcp(allowHalfOpen = false): Promise<net.Socket> {
  const s = net.connect({ host: SW_ADDR, port: QEMU_TCP_PORT, allowHalfOpen });
  s.on('error', () => undefined);
  s.once('close', () => CLOSED.add(s));
  await once(s, 'connect');
  return s;
}

/** One connection of `kind`: a valid frame first when `withFrame`; the time until the switch closed it, or -1. */
async function oneLength(rig: Rig, kind: LengthKind, marker: string | null): Promise<number> {
  const s = await connectTcp();
  s.resume();
  const closed = new Promise<number>((resolve) => s.once('close', () => resolve(Date.now())));
  const parts: Buffer[] = [];
  if (marker !== null) parts.push(header(64), markerFrame(marker));
  const len = kind.len(rig);
  const body = Buffer.alloc(kind.valid === true ? len : 32);
  if (kind.valid === true) markerFrame(`${marker ?? 'valid'}-big`, len).copy(body);
  else rig.fz.bytes(body, 0, body.length);
  parts.push(header(len), body);
  const t0 = Date.now();
  s.write(Buffer.concat(parts));
  const at = await Promise.race([closed, sleep(BOUNDS.qemuCloseMaxMs).then(() => -1)]);
  s.destroy();
  return at < 0 ? -1 : at - t0;
}

export const qemuLengths: Scenario = {
  name: 'qemu-lengths',
  what: 'QEMU stream length headers 0, 13, 65536, 69633, 0xffffffff, 1..12 and over the maximum (after a valid frame on half), and 65535 as the control',
  async run(rig: Rig, out: ScenarioOut): Promise<void> {
    const n = rig.sizes.qemuPerLength;
    rig.reader.frames.length = 0;
    const full0 = (await rig.ports(20)).find((p) => p.id === rig.readerPort)?.drops['ring-full'] ?? 0;
    let markers = 0;
    for (const kind of KINDS) {
      const times: number[] = [];
      for (let i = 0; i < n; i += PARALLEL) {
        const batch = Array.from({ length: Math.min(PARALLEL, n - i) }, (_, j) => {
          const marker = (i + j) % 2 === 0 ? `hostile-len-${kind.name}-${i + j}` : null;
          if (marker !== null) markers++;
          return oneLength(rig, kind, marker);
        });
        times.push(...(await Promise.all(batch)));
      }
      out.inputs += n;
      const closed = times.filter((t) => t >= 0);
      if (kind.valid === true) {
        out.check(`length ${kind.name}: connections kept`, closed.length === 0, `${closed.length} of ${n} closed by the switch`);
      } else {
        out.check(`length ${kind.name}: every connection closed within ${BOUNDS.qemuCloseMaxMs} ms`, closed.length === n, `${closed.length} of ${n} closed, slowest ${Math.max(0, ...closed)} ms`);
      }
    }
    // A burst of large frames can fill the reader's 1 MiB ring: those count as ring-full on its port.
    const sentToReader = markers + n;
    const got = (): number => rig.reader.frames.filter((f) => f.subarray(14, 26).toString('latin1') === 'hostile-len-' || f.subarray(14, 19).toString('latin1') === 'valid').length;
    const ringFull = async (): Promise<number> => ((await rig.ports(20)).find((p) => p.id === rig.readerPort)?.drops['ring-full'] ?? 0) - full0;
    await timeUntil(async () => got() + (await ringFull()) >= sentToReader, 5000, 100);
    const rf = await ringFull();
    out.figure('ring-full at the reader', rf);
    out.check('every valid frame (before a bad length, and of 65535 bytes) delivered or counted ring-full', got() + rf === sentToReader, `${got()} delivered + ${rf} ring-full at the reader; ${markers} small and ${n} of 65535 bytes sent`);
    rig.reader.frames.length = 0;
  },
};

async function openMany(count: number, each: (s: net.Socket) => void, allowHalfOpen = false): Promise<net.Socket[]> {
  const all: net.Socket[] = [];
  for (let i = 0; i < count; i += OPEN_BATCH) {
    const batch = await Promise.all(Array.from({ length: Math.min(OPEN_BATCH, count - i) }, () => connectTcp(allowHalfOpen)));
    for (const s of batch) each(s);
    all.push(...batch);
  }
  return all;
}

/** Connections the kernel completed on the TCP listener that the switch has not accepted (ss's Recv-Q of the listening socket). */
function backlog(): number {
  const line = execFileSync('ss', ['-Hltn', `sport = :${QEMU_TCP_PORT}`], { encoding: 'utf8' }).trim().split('\n')[0] ?? '';
  return Number(line.trim().split(/\s+/)[1] ?? 0);
}

async function tcpListener(rig: Rig): Promise<ListenerJson | undefined> {
  const r = await rig.ctl<{ listeners: ListenerJson[] }>('show listeners');
  return r.listeners.find((l) => l.address === `${SW_ADDR}:${QEMU_TCP_PORT}`);
}

export const qemuIdle: Scenario = {
  name: 'qemu-idle',
  what: 'thousands of QEMU connections held at once: idle, half-closed (FIN first), and a 65535 length then 1000 bytes then silence',
  memoryHeavy: true,
  async run(rig: Rig, out: ScenarioOut): Promise<void> {
    const s = rig.sizes;
    const start = rig.sampler.now();
    const base = (await tcpListener(rig))?.connections ?? 0;
    const closedBySwitch = CLOSED;
    const watch = (sock: net.Socket): void => void sock.resume();
    const idle = await openMany(s.idleConnections, watch);
    const half = await openMany(s.halfClosedConnections, (sock) => {
      watch(sock);
      sock.end();
    }, true);
    const silent = await openMany(s.silentConnections, (sock) => {
      watch(sock);
      const first = Buffer.alloc(4 + 1000);
      first.writeUInt32BE(65535, 0);
      sock.write(first);
    });
    out.inputs += idle.length + half.length + silent.length;
    await sleep(1000);
    const held = [...idle, ...silent].filter((x) => !closedBySwitch.has(x)).length;
    const settled = await timeUntil(async () => ((await tcpListener(rig))?.connections ?? 0) - base === [...idle, ...silent].filter((x) => !closedBySwitch.has(x)).length, BOUNDS.drainMaxMs, 250);
    const l = await tcpListener(rig);
    const refused = Object.values(l?.refused ?? {}).reduce((a, b) => a + b, 0);
    out.figure('held', held);
    out.figure('refused', refused);
    out.figure('fds held', rig.sampler.now().fds - start.fds);
    const open = [...idle, ...silent].filter((x) => !closedBySwitch.has(x)).length;
    out.check('the switch holds exactly the idle and silent connections it has not closed', settled >= 0, `listener shows ${(l?.connections ?? 0) - base}, our side has ${open} open (idle ${idle.filter((x) => !closedBySwitch.has(x)).length}, silent ${silent.filter((x) => !closedBySwitch.has(x)).length}), ${backlog()} not accepted yet (listen backlog)${refused > 0 ? `; ${refused} refused so far` : ''}`);
    const halfClosed = await timeUntil(() => half.every((x) => closedBySwitch.has(x)), BOUNDS.drainMaxMs, 100);
    out.check('half-closed connections closed by the switch', halfClosed >= 0, `${half.filter((x) => closedBySwitch.has(x)).length} of ${half.length} closed`);
    for (const x of [...idle, ...half, ...silent]) x.destroy();
    const drained = await timeUntil(async () => ((await tcpListener(rig))?.connections ?? 0) === base, BOUNDS.drainMaxMs, 250);
    out.check('every connection gone from the switch after the clients left', drained >= 0, `${((await tcpListener(rig))?.connections ?? 0) - base} left after ${BOUNDS.drainMaxMs} ms`);
    const fdsBack = await timeUntil(() => rig.sampler.now().fds <= start.fds, BOUNDS.drainMaxMs, 250);
    out.check('fds back after the connections left', fdsBack >= 0, `fds ${rig.sampler.now().fds}, ${start.fds} before`);
  },
};
