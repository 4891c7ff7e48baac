// Scenario: garbage on the control socket DIR/dives.ctl — lines of random bytes, NULs,
// invalid UTF-8, over-long lines and mutated commands; 1 MiB lines; more connections at once
// than the switch takes (256); and requests pipelined without reading the replies. Every
// line must get exactly one status line, and nothing may hang. Lines whose first word could
// change the switch (write, no, tap, peer, debug, quit...) are defused first: this is garbage,
// not an operator. Run by test/hostile/run-inside.ts on the runner's main thread.

import net from 'node:net';
import { once } from 'node:events';
import { join } from 'node:path';
import type { Fuzz } from '../fuzz.js';
import type { Rig } from '../rig.js';
import { sleep, type Scenario, type ScenarioOut } from '../scenario.js';

const GARBAGE_BYTES = 16 * 1024;
const HUGE_BYTES = 1 << 20;
/** The switch's limit on control connections (src/control/control-server.ts MAX_CONNECTIONS). */
const CTL_MAX_CONNECTIONS = 256;
const ANSWER_TIMEOUT_MS = 15_000;
const STATUS_RE = /^(ok|ok bye|error [A-Z][A-Z0-9]*: .*)$/;
const DESTRUCTIVE = /^[ \t]*(write|no|tap|listen|peer|debug|vlan|quit|exit|end|json)(?=[ \t#]|$)/;
const COMMANDS = ['show vlans', 'show ports', 'show peers', 'show threads', 'show rings', 'show taps', 'show listeners', 'show running-config', 'help', 'help show', 'complete "sh"', 'prompt'];

/** One garbage line, without its newline. */
function garbageLine(fz: Fuzz): Buffer {
  let line: Buffer;
  switch (fz.int(0, 5)) {
    case 0: {
      line = Buffer.alloc(fz.int(0, 300));
      fz.bytes(line, 0, line.length);
      break;
    }
    case 1:
      line = Buffer.alloc(fz.int(4097, 9000), fz.int(0x21, 0x7e));
      break;
    case 2:
      line = Buffer.from(`${fz.pick(COMMANDS)}${'\0'.repeat(fz.int(1, 20))}\xff\xfe garbage`, 'latin1');
      break;
    case 3: {
      line = Buffer.from(fz.pick(COMMANDS), 'latin1');
      for (let k = fz.int(1, 3); k > 0; k--) if (line.length > 0) line[fz.int(0, line.length - 1)] = fz.int(0, 255);
      break;
    }
    case 4:
      line = Buffer.from(`${fz.pick(COMMANDS)} ${'x '.repeat(fz.int(1, 50))}\r`, 'latin1');
      break;
    default:
      line = Buffer.alloc(0);
  }
  // No newline inside: one line is one request, as the count below assumes.
  for (let i = 0; i < line.length; i++) if (line[i] === 0x0a) line[i] = 0x20;
  if (DESTRUCTIVE.test(line.toString('latin1').replace(/["\\]/g, ''))) line = Buffer.concat([Buffer.from('!'), line]);
  return line;
}

/** A payload of garbage lines and how many request lines the switch will read in it. */
function garbage(fz: Fuzz): { payload: Buffer; lines: number } {
  const parts: Buffer[] = [];
  let size = 0;
  while (size < GARBAGE_BYTES) {
    const l = garbageLine(fz);
    parts.push(l, Buffer.from('\n'));
    size += l.length + 1;
  }
  return { payload: Buffer.concat(parts), lines: parts.length / 2 };
}

interface Conversation {
  statuses: string[];
  closed: boolean;
  /** Why connect() failed (EAGAIN: the listen backlog was full), or null. */
  refusedBy: string | null;
}

/** Send `payload` on a new connection (then end, unless told not to) and collect the status lines until the switch closes. */
async function converse(path: string, payload: Buffer, opts: { end?: boolean; wantStatuses?: number } = {}): Promise<Conversation> {
  const s = net.connect(path);
  s.on('error', () => undefined);
  try {
    await once(s, 'connect');
  } catch (err) {
    s.destroy();
    return { statuses: [], closed: true, refusedBy: (err as NodeJS.ErrnoException).code ?? String(err) };
  }
  const statuses: string[] = [];
  let text = '';
  let closed = false;
  const done = new Promise<void>((resolve) => {
    s.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      let nl: number;
      while ((nl = text.indexOf('\n')) >= 0) {
        const line = text.slice(0, nl);
        text = text.slice(nl + 1);
        if (STATUS_RE.test(line)) statuses.push(line);
      }
      if (opts.wantStatuses !== undefined && statuses.length >= opts.wantStatuses) resolve();
    });
    s.once('close', () => {
      closed = true;
      resolve();
    });
  });
  s.write(payload);
  if (opts.end !== false) s.end();
  await Promise.race([done, sleep(ANSWER_TIMEOUT_MS)]);
  s.destroy();
  return { statuses, closed, refusedBy: null };
}

export const controlGarbage: Scenario = {
  name: 'control-garbage',
  what: 'control socket: garbage lines, 1 MiB lines, more connections than it takes, requests pipelined without reading',
  memoryHeavy: true,
  async run(rig: Rig, out: ScenarioOut): Promise<void> {
    const path = join(rig.sutDir, 'dives.ctl');
    await garbageConnections(rig, path, out);
    await hugeLines(rig, path, out);
    await concurrent(rig, path, out);
    await pipelined(rig, path, out);
  },
};

async function garbageConnections(rig: Rig, path: string, out: ScenarioOut): Promise<void> {
  let lines = 0;
  let answered = 0;
  for (let i = 0; i < rig.sizes.ctlGarbageConnections; i += 4) {
    const batch = Array.from({ length: Math.min(4, rig.sizes.ctlGarbageConnections - i) }, () => garbage(rig.fz));
    const replies = await Promise.all(batch.map((g) => converse(path, g.payload)));
    lines += batch.reduce((n, g) => n + g.lines, 0);
    answered += replies.reduce((n, r) => n + r.statuses.length, 0);
  }
  out.inputs += lines + rig.sizes.ctlGarbageConnections;
  out.figure('garbage lines', lines);
  out.check('every garbage line answered with one status line', answered === lines, `${answered} status lines for ${lines} lines`);
}

async function hugeLines(rig: Rig, path: string, out: ScenarioOut): Promise<void> {
  const payload = Buffer.concat([Buffer.alloc(HUGE_BYTES, 0x41), Buffer.from('\nshow vlans\n')]);
  let right = 0;
  for (let i = 0; i < rig.sizes.ctlHugeLines; i++) {
    const r = await converse(path, payload);
    if (r.statuses.length === 2 && r.statuses[0].startsWith('error EBADARG') && r.statuses[1] === 'ok') right++;
  }
  out.inputs += 2 * rig.sizes.ctlHugeLines;
  out.check('a 1 MiB line refused, the next line answered', right === rig.sizes.ctlHugeLines, `${right} of ${rig.sizes.ctlHugeLines} connections got "error EBADARG" then "ok"`);
}

async function concurrent(rig: Rig, path: string, out: ScenarioOut): Promise<void> {
  const n = rig.sizes.ctlConcurrent;
  const results = await Promise.all(Array.from({ length: n }, () => converse(path, Buffer.from('show vlans\n'), { end: false, wantStatuses: 1 })));
  const answered = results.filter((r) => r.statuses.length === 1).length;
  const backlog = results.filter((r) => r.refusedBy !== null).length;
  const refused = results.filter((r) => r.statuses.length === 0 && r.closed).length - backlog;
  const hung = n - answered - refused - backlog;
  out.inputs += n;
  out.figure('concurrent answered', answered);
  out.figure('concurrent refused', refused);
  // The kernel refuses a UNIX connect at once (EAGAIN) while the switch's listen backlog is full.
  out.figure('concurrent refused by the kernel', backlog);
  // A few places may be taken by the runner's own control clients at that moment.
  const floor = Math.min(n, CTL_MAX_CONNECTIONS) - 4;
  out.check('concurrent connections answered or refused, none hung', hung === 0 && answered >= floor, `${answered} answered, ${refused} refused by the switch, ${backlog} by the kernel (backlog full), ${hung} hung, of ${n}`);
}

async function pipelined(rig: Rig, path: string, out: ScenarioOut): Promise<void> {
  const n = rig.sizes.ctlPipelined;
  const s = net.connect(path);
  s.on('error', () => undefined);
  await once(s, 'connect');
  s.pause();
  s.write(Buffer.from('show running-config\n'.repeat(n)));
  await sleep(1000);
  let statuses = 0;
  let text = '';
  const done = new Promise<void>((resolve) => {
    s.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      const lines = text.split('\n');
      text = lines.pop() ?? '';
      statuses += lines.filter((l) => STATUS_RE.test(l)).length;
      if (statuses >= n) resolve();
    });
    s.once('close', () => resolve());
  });
  s.resume();
  // The switch runs them one at a time; give each 10 ms on top of the usual wait.
  await Promise.race([done, sleep(ANSWER_TIMEOUT_MS + 10 * n)]);
  s.destroy();
  out.inputs += n;
  out.check('requests pipelined without reading all answered once read', statuses === n, `${statuses} of ${n}`);
}
