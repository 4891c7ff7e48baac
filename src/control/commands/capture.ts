// The capture commands — `capture vlan ID ...`, `capture port PORT ...` and `show
// captures` — as CommandRegistry records. A capture with a FILE writes it (mode 0600)
// and answers when it ends; without one it streams the pcap to the client, which only
// the control socket can (`dives ctl capture vlan 10 | tcpdump -nr -`). Each handler
// only parses, calls SwitchControl and formats; it runs on the main thread.

import type { CommandArea, CommandContext, CommandResult, CommandSpec } from '../command-registry.js';
import { DivesError } from '../../core/errors.js';
import type { ByteSink, CaptureInfo, CaptureRequest, CapturesInfo } from '../switch-api.js';
import { formatCounters, formatNotedTable, quote } from '../format.js';
import { ID, command, countParser } from './args.js';
import { CAPTURE_COUNTERS } from '../../core/counters.js';
import { docOf, oneRow } from '../metric-sources.js';

const parseCount = countParser('N', 1_000_000_000);
const parseSeconds = countParser('S', 86_400);
const OPTIONS = { name: 'OPTIONS', rest: true };

/** `[count N] [seconds S] [FILE]`, in any order. */
function options(words: string[]): { count: number | null; seconds: number | null; file: string | null } {
  const o = { count: null as number | null, seconds: null as number | null, file: null as string | null };
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if ((w === 'count' || w === 'seconds') && i + 1 >= words.length) throw new DivesError('EBADARG', `${w} needs a number: ${w === 'count' ? 'count N' : 'seconds S'}`);
    if (w === 'count') o.count = parseCount(words[++i]);
    else if (w === 'seconds') o.seconds = parseSeconds(words[++i]);
    else if (o.file === null && w !== '' && !w.includes('\0')) o.file = w;
    else throw new DivesError('EBADARG', `unexpected argument ${quote(w)} to "capture"; usage: capture vlan ID|port PORT [count N] [seconds S] [FILE]`);
  }
  return o;
}

function describe(c: CaptureInfo): string[] {
  const lost = c.counters['capture-full'];
  const why = { count: 'count reached', seconds: 'time up', 'reader-gone': 'the reader went away', 'source-gone': 'the port went away', 'switch-stopping': 'the switch is stopping' }[c.ended ?? 'count'];
  return [
    `captured ${c.counters.captured} frames of ${c.source} to ${c.to} (${why})${lost > 0 ? `; ${lost} lost: the reader fell behind` : ''}`,
    ...c.ports.map((p) => `  ${p.port}: ${p.in} in, ${p.out} out`),
  ];
}

async function capture(ctx: Ctx): Promise<CommandResult> {
  const o = options(ctx.args.words('OPTIONS'));
  const source = ctx.args.has('ID') ? { vid: ctx.args.number('ID') } : { port: ctx.args.string('PORT') };
  const req: CaptureRequest = { source, count: o.count, seconds: o.seconds };
  let info: CaptureInfo;
  if (o.file !== null) {
    // The session waits for the capture: without a bound it would never answer.
    if (o.count === null && o.seconds === null) throw new DivesError('EBADARG', 'a capture to a FILE needs count N or seconds S to end');
    info = await ctx.sw.capture(req, { file: o.file });
  } else {
    if (ctx.openStream === null) throw new DivesError('EBADARG', 'capture without a FILE streams pcap through the control socket ("dives ctl capture ... | tcpdump -nr -"); give a FILE here');
    info = await ctx.sw.capture(req, { sink: ctx.openStream() });
  }
  return { lines: describe(info), json: { capture: info } };
}

function showCaptures(ctx: Ctx): CommandResult {
  const { captures, totals } = ctx.sw.showCaptures();
  const rows = captures.map((c) => [String(c.id), c.source, c.to, String(c.counters.captured), String(c.counters['capture-full'])]);
  const notes = captures.map((c) => c.ports.map((p) => `${p.port}: ${p.in} in, ${p.out} out`));
  const lines = [...formatNotedTable(['ID', 'SOURCE', 'TO', 'CAPTURED', 'LOST'], rows, notes, '(no capture running)'), formatCounters('since start', totals)];
  return { lines, json: { captures, totals } };
}

const HOW = '[count N] [seconds S] [FILE]';

/** What the capture commands ask of the switch (src/capture/captures.ts). */
export interface CaptureControl {
  /** Capture into a new file (mode 0600) or a sink (the control socket's stream) until the capture ends; its counts. */
  capture(req: CaptureRequest, out: { file: string } | { sink: ByteSink }): Promise<CaptureInfo>;
  showCaptures(): CapturesInfo;
}

type Ctl = CaptureControl;
type Ctx = CommandContext<Ctl>;

export const CAPTURE_COMMANDS: readonly CommandSpec<Ctl>[] = [
  command({
    mode: 'any',
    syntax: `capture vlan ID ${HOW}`,
    example: 'capture vlan 10 count 4 /tmp/dives-example.pcap',
    args: [ID, OPTIONS],
    handler: capture,
    help: 'Capture the frames VLAN ID takes in, as classic pcap, into FILE (mode 0600), or without FILE to `dives ctl` on stdout; stop after N frames or S seconds.',
  }),
  command({
    mode: 'any',
    syntax: `capture port PORT ${HOW}`,
    example: 'capture port tap:tap0 seconds 10 /tmp/dives-example.pcap',
    args: [{ name: 'PORT' }, OPTIONS],
    handler: capture,
    help: 'Capture the frames of one port (its ID or NAME from "show ports") both ways, as "capture vlan" does.',
  }),
  command({ mode: 'any', syntax: 'show captures', example: 'show captures', handler: showCaptures, help: 'Show the captures running, the frames each wrote and lost, and the counts since the switch started.' }),
];

/** The capture commands; a capture runs until it ends, so it is no configuration. */
export const CAPTURE_AREA: CommandArea<Ctl> = {
  commands: CAPTURE_COMMANDS,
  counters: [{ set: CAPTURE_COUNTERS, subject: 'dives_capture', labels: [], rows: (d) => oneRow(docOf<CapturesInfo>(d).totals) }],
};
