// Captures on a running `dives start`: frames two QEMU-protocol clients send in VLAN 10,
// captured with `dives ctl capture vlan 10 count 4` piped into the real tcpdump (`tcpdump
// -nr - -xx`) and into a FILE read with `tcpdump -r`, come back byte for byte, in order;
// the file is the owner's only; a capture of a port sees it both ways; and `show
// captures` counts what every capture wrote.

import type { ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, runCtl, startSwitch, tempDir } from '../helpers/ctl-process.js';
import { freeTcpPort } from '../helpers/guest.js';
import { run } from '../helpers/netns.js';
import { icmpEcho } from '../helpers/frames.js';
import { privTest } from '../helpers/privileged.js';
import { QemuClient } from '../helpers/qemu-client.js';
import { until } from '../helpers/until.js';

const MAC_A = Buffer.from([0x02, 0xca, 0, 0, 0, 0x0a]);
const MAC_B = Buffer.from([0x02, 0xca, 0, 0, 0, 0x0b]);
const PAYLOAD = Buffer.from('a known ping, captured by DiVES');

/** A ping and its answer, twice: A to B and back. */
function pings(id: number): { from: 'a' | 'b'; frame: Buffer }[] {
  return [1, 2].flatMap((seq) => [
    { from: 'a' as const, frame: icmpEcho(8, MAC_B, '10.81.0.1', '10.81.0.2', id, seq, PAYLOAD, MAC_A) },
    { from: 'b' as const, frame: icmpEcho(0, MAC_A, '10.81.0.2', '10.81.0.1', id, seq, PAYLOAD, MAC_B) },
  ]);
}

/** The frames of `tcpdump -xx` output, as bytes. */
function framesOfHexDump(text: string): Buffer[] {
  const frames: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s+0x[0-9a-f]+:\s+(.*)$/.exec(line);
    if (m === null) {
      if (line.trim() !== '') frames.push('');
      continue;
    }
    frames[frames.length - 1] += m[1].replace(/\s+/g, '');
  }
  return frames.map((h) => Buffer.from(h, 'hex'));
}

interface Rig {
  dir: string;
  a: QemuClient;
  b: QemuClient;
}

async function rig(t: ExecutionContext): Promise<Rig> {
  const dir = tempDir(t, 'dvcap-');
  await startSwitch(t, dir);
  const port = await freeTcpPort();
  const r = await runCtl(['-u', dir, 'vlan', '10', 'listen', '127.0.0.1', String(port)]);
  t.is(r.code, 0, r.stderr);
  const a = await QemuClient.connect({ port });
  const b = await QemuClient.connect({ port });
  t.teardown(() => a.close());
  t.teardown(() => b.close());
  const ports = async (): Promise<number> => (JSON.parse((await runCtl(['-u', dir, '--json', 'show', 'ports'])).stdout) as { ports: unknown[] }).ports.length;
  await until(async () => (await ports()) === 2, 5000, 'the two QEMU ports', { everyMs: 50 });
  return { dir, a, b };
}

/** Wait until `n` captures run, then send the frames, each after the last was forwarded. */
async function sendWhenCapturing(g: Rig, n: number, frames: { from: 'a' | 'b'; frame: Buffer }[]): Promise<void> {
  const captures = async (): Promise<number> => (JSON.parse((await runCtl(['-u', g.dir, '--json', 'show', 'captures'])).stdout) as { captures: unknown[] }).captures.length;
  await until(async () => (await captures()) === n, 10_000, `${n} captures to run`, { everyMs: 50 });
  for (const f of frames) {
    const [from, to] = f.from === 'a' ? [g.a, g.b] : [g.b, g.a];
    const had = to.frames.length;
    from.send(f.frame);
    // Forwarded (and so captured) once the other VM has it: the next frame comes after it.
    await until(() => to.frames.length > had, 5000, 'the frame at the other VM');
  }
}

privTest('dives ctl capture vlan 10 piped into tcpdump -nr - gives back the frames sent, byte for byte, in order', async (t) => {
  t.timeout(60_000);
  const g = await rig(t);
  const sent = pings(0x51);
  const pipe = spawn('sh', ['-c', `"${process.execPath}" "${BIN}" ctl -u "${g.dir}" capture vlan 10 count 4 | tcpdump -nr - -xx`], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => void pipe.kill('SIGKILL'));
  let out = '';
  let err = '';
  pipe.stdout.on('data', (d: Buffer) => (out += d.toString()));
  pipe.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<number | null>((resolve) => pipe.once('close', resolve));
  await sendWhenCapturing(g, 1, sent);
  t.is(await done, 0, err);
  t.deepEqual(framesOfHexDump(out), sent.map((s) => s.frame), out);
  t.is(out.split('\n').filter((l) => /IP 10\.81\.0\.1 > 10\.81\.0\.2: ICMP echo request/.test(l)).length, 2, out);
  t.regex(err, /captured 4 frames of vlan 10 to stream \(count reached\)/);
  t.regex(err, /tap|qemu:127\.0\.0\.1:\d+#\d+: 2 in, 0 out/);
});

privTest('a capture to a FILE is read back by tcpdump -r byte for byte, is its owner\'s only, and show captures counts it', async (t) => {
  t.timeout(60_000);
  const g = await rig(t);
  const file = join(g.dir, 'ping.pcap');
  const sent = pings(0x52).slice(0, 2);
  const ctl = runCtl(['-u', g.dir, 'capture', 'vlan', '10', 'count', '2', file]);
  await sendWhenCapturing(g, 1, sent);
  const r = await ctl;
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, new RegExp(`captured 2 frames of vlan 10 to ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(count reached\\)`));
  t.is(statSync(file).mode & 0o777, 0o600);
  const dump = await run('tcpdump', ['-r', file, '-nn', '-xx']);
  t.is(dump.code, 0, dump.stderr);
  t.deepEqual(framesOfHexDump(dump.stdout), sent.map((s) => s.frame), dump.stdout);
  const shown = JSON.parse((await runCtl(['-u', g.dir, '--json', 'show', 'captures'])).stdout) as { captures: unknown[]; totals: Record<string, number> };
  t.deepEqual(shown.captures, []);
  t.is(shown.totals.captured, 2);
});

privTest('a capture of a port sees its frames both ways, and one with seconds ends on time', async (t) => {
  t.timeout(60_000);
  const g = await rig(t);
  const ports = JSON.parse((await runCtl(['-u', g.dir, '--json', 'show', 'ports'])).stdout) as { ports: { id: number; name: string }[] };
  const sent = pings(0x53);
  // The first port is A's: it connected first.
  const file = join(g.dir, 'port.pcap');
  const ctl = runCtl(['-u', g.dir, '--json', 'capture', 'port', ports.ports[0].name, 'count', '4', 'seconds', '20', file]);
  await sendWhenCapturing(g, 1, sent);
  const r = await ctl;
  t.is(r.code, 0, r.stderr);
  const info = (JSON.parse(r.stdout) as { capture: { counters: { captured: number }; ports: { in: number; out: number }[] } }).capture;
  t.is(info.counters.captured, 4);
  t.deepEqual(info.ports.map((p) => [p.in, p.out]), [[2, 2]]);
  const timed = await runCtl(['-u', g.dir, 'capture', 'vlan', '10', 'seconds', '1', join(g.dir, 'none.pcap')]);
  t.regex(timed.stdout, /captured 0 frames of vlan 10 .*\(time up\)/);
});
