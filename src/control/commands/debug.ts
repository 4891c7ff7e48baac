// The hidden `debug` commands: crash drills that end a thread as a bug would, so
// the restart and the restart budget (src/core/thread-supervisor.ts) can be
// exercised on a running switch. Listed by `help debug`; main thread.

import type { CommandArea, CommandContext, CommandResult, CommandSpec } from '../command-registry.js';
import { DEVNAME, ID, command, parseMacWord, parseOnOff } from './args.js';
import type { CoreControl } from '../switch-api.js';

async function crashWorker(ctx: Ctx): Promise<CommandResult> {
  const vid = ctx.args.number('ID');
  await ctx.sw.crashWorker(vid);
  return { lines: [`crashed the forwarding thread of VLAN ${vid}`], json: { crashed: vid } };
}

async function crashOnFrame(ctx: Ctx): Promise<CommandResult> {
  const vid = ctx.args.number('ID');
  const mac = ctx.args.string('MAC');
  await ctx.sw.crashOnFrame(vid, mac);
  return { lines: [`the forwarding thread of VLAN ${vid} now dies on every frame from ${mac}`], json: { armed: { vid, mac } } };
}

async function crashTap(ctx: Ctx): Promise<CommandResult> {
  const name = ctx.args.string('DEVNAME');
  await ctx.sw.crashTapIo(name);
  return { lines: [`stopped the I/O thread of tap ${name} as a crash would`], json: { crashed: name } };
}

function trace(ctx: Ctx): CommandResult {
  const word = ctx.args.string('WHAT');
  ctx.sw.setTrace(word === 'on');
  return { lines: [word === 'on' ? 'tracing frames; "show trace" says where their time goes' : 'tracing stopped; "show trace" keeps what it saw'], json: { trace: word === 'on' } };
}

async function crashPeers(ctx: Ctx): Promise<CommandResult> {
  await ctx.sw.crashPeerIo();
  return { lines: ['stopped the peer I/O thread as a crash would'], json: { crashed: 'peers' } };
}

async function crashVxlan(ctx: Ctx): Promise<CommandResult> {
  await ctx.sw.crashVxlanIo();
  return { lines: ['stopped the VXLAN I/O thread as a crash would'], json: { crashed: 'vxlan' } };
}

async function crashQemu(ctx: Ctx): Promise<CommandResult> {
  await ctx.sw.crashQemuIo();
  return { lines: ['stopped the QEMU I/O thread as a crash would'], json: { crashed: 'qemu' } };
}

/** What the crash drills ask of the switch: end a thread as a bug would (src/core/thread-supervisor.ts). */
export interface DebugControl {
  /** Deliberately crash the forwarding thread of a VLAN (the `debug crash-worker` command, for drills and tests). */
  crashWorker(vid: number): Promise<void>;
  /** Make the forwarding thread of `vid` die on every frame from `mac` (`debug crash-on-frame`): the restart budget's drill. */
  crashOnFrame(vid: number, mac: string): Promise<void>;
  /** Stop a TAP's I/O thread as a crash would (the `debug crash-tap` command); it is restarted. */
  crashTapIo(name: string): Promise<void>;
  /** Stop the peer I/O thread as a crash would (the `debug crash-peers` command); it is restarted. */
  crashPeerIo(): Promise<void>;
  /** Stop the QEMU I/O threads as a crash would (the `debug crash-qemu` command); they and their listeners are restarted. */
  crashQemuIo(): Promise<void>;
  /** Stop the VXLAN I/O thread as a crash would (the `debug crash-vxlan` command); it is restarted. */
  crashVxlanIo(): Promise<void>;
}

type Ctl = DebugControl & CoreControl;
type Ctx = CommandContext<Ctl>;

export const DEBUG_COMMANDS: readonly CommandSpec<Ctl>[] = [
  command({
    mode: 'any',
    syntax: 'debug crash-worker ID',
    example: 'debug crash-worker 20',
    args: [ID],
    handler: crashWorker,
    hidden: true,
    help: 'Crash the forwarding thread of VLAN ID on purpose, for recovery drills.',
  }),
  command({
    mode: 'any',
    syntax: 'debug crash-on-frame ID MAC',
    example: 'debug crash-on-frame 10 02:de:ad:00:00:01',
    args: [ID, { name: 'MAC', parse: parseMacWord }],
    handler: crashOnFrame,
    hidden: true,
    help: 'Make the forwarding thread of VLAN ID die on every frame from MAC, as a bug on that frame would; it is restarted within its budget, then the VLAN goes down.',
  }),
  command({
    mode: 'any',
    syntax: 'debug crash-tap DEVNAME',
    example: 'debug crash-tap tap0',
    args: [DEVNAME],
    handler: crashTap,
    hidden: true,
    help: 'Stop the I/O thread of TAP DEVNAME as a crash would, for recovery drills.',
  }),
  command({ mode: 'any', syntax: 'debug crash-peers', example: 'debug crash-peers', handler: crashPeers, hidden: true, help: 'Stop the peer I/O thread as a crash would, for recovery drills.' }),
  command({ mode: 'any', syntax: 'debug crash-qemu', example: 'debug crash-qemu', handler: crashQemu, hidden: true, help: 'Stop the QEMU I/O thread as a crash would, for recovery drills.' }),
  command({ mode: 'any', syntax: 'debug crash-vxlan', example: 'debug crash-vxlan', handler: crashVxlan, hidden: true, help: 'Stop the VXLAN I/O thread as a crash would, for recovery drills.' }),
  command({
    mode: 'any',
    syntax: 'debug trace WHAT',
    example: 'debug trace on',
    args: [{ name: 'WHAT', parse: parseOnOff }],
    handler: trace,
    hidden: true,
    help: 'Trace frames through the threads (WHAT: on or off); "show trace" prints where their time goes. Costs a clock read per frame and thread while on.',
  }),
];

/** The hidden drills and tracing: nothing to configure. */
export const DEBUG_AREA: CommandArea<Ctl> = { commands: DEBUG_COMMANDS };
