// Every event the switch reports, defined once: its fields, when it happens, the level
// it is logged at, whether someone outside the switch can cause it, its text form and an
// example. `dives ctl monitor` prints the text form (or, with --json, the JSON form: the
// time, the kind and the fields), the log gets the text form, and docs/console.md's table
// of event kinds is generated from EVENT_KINDS. Pure; main thread (events are emitted and
// formatted only there, src/core/event-bus.ts).

import type { LimitedLevel } from './log-limiter.js';
import type { PortKind } from './port-kind.js';
import { MAC_FLAP_MOVES, MAX_REPORTED_MOVES, MOVE_REPORT_MS } from './mac-move-limits.js';

/** How a peer came to be known: announced on the discovery group, or configured (`peer HOST PORT`). */
export type PeerLearned = 'discovered' | 'static';

/** A port of a VLAN: its id, name and kind; vid 0 is a peer port, a member of every VLAN with local ports. */
interface PortFields {
  vid: number;
  portId: number;
  port: string;
  portKind: PortKind;
}

/** A MAC seen on another port than before. */
interface MoveFields {
  vid: number;
  mac: string;
  from: string;
  fromId: number;
  to: string;
  toId: number;
}

/** What a capture (or mirror) session copies, and where to. */
interface CaptureFields {
  /** What is captured: "port tap:tap0", "VLAN 10". */
  target: string;
  /** Where the copies go: a file, or a mirror port. */
  to: string;
}

/** The fields of each kind of event, by kind. */
export interface EventFieldsByKind {
  'port-attached': PortFields;
  'port-detached': PortFields;
  'vm-connected': { vid: number; portId: number; port: string; remote: string; listener: string };
  'vm-disconnected': { vid: number; portId: number; port: string; reason: string };
  'peer-up': { peer: string; learned: PeerLearned; legacy: boolean; how: string; portId: number; vlans: number[] };
  'peer-down': { peer: string; learned: PeerLearned; reason: 'expired' | 'removed'; silentSeconds: number | null };
  'mac-moved': MoveFields;
  'mac-flap': MoveFields;
  'mac-moves-unreported': { thread: string; count: number };
  'thread-restarted': { thread: string; threadKind: string; why: string; restarts: number; note: string };
  'thread-down': { thread: string; threadKind: string; reason: string; exhausted: string | null; lastDeath: string | null; note: string };
  'vlan-down': { vid: number; reason: string };
  'capture-started': CaptureFields;
  'capture-stopped': CaptureFields & { frames: number; reason: string };
  'drops-rising': { vid: number; portId: number; port: string; reason: string; delta: number; total: number };
  'events-dropped': { count: number };
}

export type EventKind = keyof EventFieldsByKind;

/** One event: its kind and that kind's fields. */
export type DivesEvent = { [K in EventKind]: { kind: K } & EventFieldsByKind[K] }[EventKind];

/** An event as the bus hands it on: stamped with when it happened (ms since the epoch). */
export type StampedEvent = DivesEvent & { time: number };

interface KindDef<K extends EventKind> {
  /** When it happens, for docs. */
  help: string;
  /** The level its log line has; 'none' for kinds not logged (another line says it, or only a monitor sees it). */
  level: LimitedLevel | 'none';
  /** Someone outside the switch can cause it at will (a VM, a peer, a datagram): its log lines are rate-limited. */
  outsider: boolean;
  text(e: EventFieldsByKind[K]): string;
  /** Fields for docs/console.md's example and the tests. */
  example: EventFieldsByKind[K];
}

function where(vid: number): string {
  return vid === 0 ? 'every VLAN with local ports' : `VLAN ${vid}`;
}

const EXAMPLE_MOVE: MoveFields = { vid: 10, mac: '02:00:00:00:00:01', from: 'qemu:127.0.0.1:4000#1', fromId: 2, to: 'tap:tap0', toId: 1 };

/** Every kind of event, in the order docs list them. */
export const EVENT_KINDS: { readonly [K in EventKind]: KindDef<K> } = {
  'port-attached': {
    help: 'a port joined a VLAN: a TAP attached, a VM connected, a peer came up, a VTEP added (not logged: each kind of port has its own line for it, vm-connected and peer-up among them)',
    level: 'none',
    outsider: true,
    text: (e) => `port ${e.portId} (${e.port}) attached to ${where(e.vid)}`,
    example: { vid: 10, portId: 1, port: 'tap:tap0', portKind: 'tap' },
  },
  'port-detached': {
    help: 'a port left its VLAN: a TAP detached or deleted, a VM gone, a peer down, a VTEP removed (not logged, as port-attached)',
    level: 'none',
    outsider: true,
    text: (e) => `port ${e.portId} (${e.port}) detached from ${where(e.vid)}`,
    example: { vid: 10, portId: 2, port: 'qemu:127.0.0.1:4000#1', portKind: 'qemu' },
  },
  'vm-connected': {
    help: 'a VM (any client of a QEMU listener) connected and has its port',
    level: 'info',
    outsider: true,
    text: (e) => `qemu ${e.remote} connected to ${e.listener}: port ${e.portId} in VLAN ${e.vid}`,
    example: { vid: 10, portId: 2, port: 'qemu:127.0.0.1:4000#1', remote: '127.0.0.1:51234', listener: '127.0.0.1:4000' },
  },
  'vm-disconnected': {
    help: 'a VM\'s connection ended, and its port and MACs are gone',
    level: 'info',
    outsider: true,
    text: (e) => `qemu port ${e.portId} (VLAN ${e.vid}) disconnected: ${e.reason}`,
    example: { vid: 10, portId: 2, port: 'qemu:127.0.0.1:4000#1', reason: 'closed by the VM' },
  },
  'peer-up': {
    help: 'a peer was heard (announcement or keepalive) and carries frames',
    level: 'info',
    outsider: true,
    text: (e) => `peer ${e.peer} up (${e.learned}${e.legacy ? ', legacy' : ''}, heard by ${e.how}): port ${e.portId} in VLANs ${e.vlans.join(',') || 'none yet'}`,
    example: { peer: '10.0.0.2:3333', learned: 'static', legacy: false, how: 'keepalive', portId: 3, vlans: [10, 20] },
  },
  'peer-down': {
    help: 'a peer that was up stopped carrying frames: it expired (not heard for --peer-expiry intervals), or its static configuration was removed',
    level: 'info',
    outsider: true,
    text: (e) =>
      e.reason === 'removed'
        ? `peer ${e.peer}: static peer removed; its port and MACs are gone from every VLAN`
        : `peer ${e.peer} expired: not heard for ${(e.silentSeconds ?? 0).toFixed(1)} s; its port and MACs are gone from every VLAN (${e.learned === 'static' ? 'static peer stays configured, down until heard again' : 'forgotten until it announces itself again'})`,
    example: { peer: '10.0.0.2:3333', learned: 'static', reason: 'expired', silentSeconds: 3.2 },
  },
  'mac-moved': {
    help: 'a learned MAC was seen on another port of its VLAN (a VM migrated, a loop, a spoofer)',
    level: 'info',
    outsider: true,
    text: (e) => `VLAN ${e.vid}: ${e.mac} moved from ${e.from} to ${e.to}`,
    example: EXAMPLE_MOVE,
  },
  'mac-flap': {
    help: `a MAC moved more than ${MAC_FLAP_MOVES} times within a second: reported once, counted in show vlans (mac-flaps); its moves are not reported again until it stays put for a second`,
    level: 'warn',
    outsider: true,
    text: (e) => `VLAN ${e.vid}: ${e.mac} is flapping between ${e.from} and ${e.to} (more than ${MAC_FLAP_MOVES} moves within a second); further moves are only counted until it stays put for a second`,
    example: EXAMPLE_MOVE,
  },
  'mac-moves-unreported': {
    help: `a forwarding thread saw more than ${MAX_REPORTED_MOVES} MAC moves within ${MOVE_REPORT_MS} ms: how many it did not report one by one`,
    level: 'info',
    outsider: true,
    text: (e) => `${e.thread}: ${e.count} MAC moves not reported one by one; show vlans counts every one (moved)`,
    example: { thread: 'forwarding thread 0', count: 1200 },
  },
  'thread-restarted': {
    help: 'a thread died without being asked to and was started again (src/core/thread-supervisor.ts); also `debug crash-...`',
    level: 'error',
    outsider: false,
    text: (e) => `${e.thread} died: ${e.why}; restarting it${e.note}`,
    example: { thread: 'forwarding thread 0', threadKind: 'forwarding', why: 'exited unexpectedly (code 70)', restarts: 1, note: '' },
  },
  'thread-down': {
    help: 'a thread failed on an error it reported, or died more often than its restart budget allows, and is not restarted',
    level: 'error',
    outsider: false,
    text: (e) => (e.exhausted !== null ? `${e.thread} ${e.exhausted} (last: ${e.lastDeath ?? 'unknown'}); not restarting it${e.note}` : `${e.thread}: ${e.reason}${e.note}`),
    example: { thread: 'tap-io:tap0', threadKind: 'tap-io', reason: 'died 4 times within 60 s, last: uncaught Error: boom', exhausted: 'died 4 times within 60 s', lastDeath: 'uncaught Error: boom', note: '; the port stops carrying frames' },
  },
  'vlan-down': {
    help: 'a VLAN\'s forwarding thread kept dying on its frames: the VLAN is down, the others carry on',
    level: 'error',
    outsider: false,
    text: (e) => `VLAN ${e.vid} is down: ${e.reason}; its frames are dropped, the other VLANs carry on`,
    example: { vid: 10, reason: 'died 4 times within 60 s, last: exited unexpectedly (code 70), on a frame from port 2' },
  },
  'capture-started': {
    help: 'a capture or mirror session started copying frames (emitted by the capture code: `EventBus.of(log).emit({ kind: \'capture-started\', target, to })`)',
    level: 'info',
    outsider: false,
    text: (e) => `capture of ${e.target} to ${e.to} started`,
    example: { target: 'port tap:tap0', to: '/tmp/tap0.pcap' },
  },
  'capture-stopped': {
    help: 'a capture or mirror session stopped, with the frames it copied and why',
    level: 'info',
    outsider: false,
    text: (e) => `capture of ${e.target} to ${e.to} stopped after ${e.frames} frames: ${e.reason}`,
    example: { target: 'port tap:tap0', to: '/tmp/tap0.pcap', frames: 1042, reason: 'stopped by command' },
  },
  'drops-rising': {
    help: 'a port\'s drop counter (one reason of show ports) went up after a second without drops; watched once a second while a monitor is attached',
    level: 'warn',
    outsider: true,
    text: (e) => `VLAN ${e.vid}: ${e.port} drops frames (${e.reason}): ${e.delta} in the last second, ${e.total} in all`,
    example: { vid: 10, portId: 2, port: 'qemu:127.0.0.1:4000#1', reason: 'ring-full', delta: 311, total: 311 },
  },
  'events-dropped': {
    help: 'this monitor did not read its events in time, so the switch dropped some for it rather than hold them; sent to that monitor only, once it reads again',
    level: 'none',
    outsider: false,
    text: (e) => `${e.count} events were not sent to this monitor: it did not read them in time`,
    example: { count: 17 },
  },
};

export const EVENT_KIND_NAMES = Object.keys(EVENT_KINDS) as EventKind[];

/** The definition of `e`'s kind, typed for `e`. */
function defOf(e: DivesEvent): KindDef<EventKind> {
  // TypeScript cannot tie a union value to its own entry of a mapped table; the table's
  // type guarantees the entry under e.kind takes e's fields.
  return EVENT_KINDS[e.kind] as unknown as KindDef<EventKind>;
}

/** The text form of an event, without its time: what the log gets. */
export function eventText(e: DivesEvent): string {
  return defOf(e).text(e as never);
}

/** The level `e` is logged at, or 'none'. */
export function eventLevel(e: DivesEvent): LimitedLevel | 'none' {
  return defOf(e).level;
}

/** Whether someone outside the switch can cause `e` at will (its log lines are rate-limited). */
export function byOutsider(e: DivesEvent): boolean {
  return defOf(e).outsider;
}

/**
 * The log limiter's kind for an outsider's event: its kind, but a static peer's own, so a
 * flood of discovered peers coming and going cannot hide a configured peer going down.
 */
export function limitKind(e: DivesEvent): string {
  return 'learned' in e && e.learned === 'static' ? `${e.kind}:static` : e.kind;
}

/** One line of `monitor`: "TIME KIND TEXT", or with `json` the JSON form {"time","kind",...fields}. */
export function eventLine(e: StampedEvent, json: boolean): string {
  const { time, ...event } = e;
  const iso = new Date(time).toISOString();
  if (json) return JSON.stringify({ time: iso, ...event });
  // One line however a reason reads: a line break in a field would split it.
  return `${iso} ${e.kind} ${eventText(e)}`.replace(/[\r\n]+/g, ' ');
}
