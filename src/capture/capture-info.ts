// What `capture`, `show captures`, `mirror` and `show mirrors` print: the typed results of
// src/capture/captures.ts and src/capture/mirrors.ts, for the control plane. Pure types.

import type { CAPTURE_COUNTERS, MIRROR_COUNTERS } from '../core/counters.js';

/** What a capture watches: every frame a VLAN takes in, or one port's frames both ways. */
export type CaptureSource = { vid: number } | { port: string };

export interface CaptureRequest {
  source: CaptureSource;
  /** Stop after this many frames; null: no limit. */
  count: number | null;
  /** Stop after this many seconds; null: no limit. */
  seconds: number | null;
}

/** How a capture ended. */
export type CaptureEnd = 'count' | 'seconds' | 'reader-gone' | 'source-gone' | 'switch-stopping';

/** Frames one port saw in a capture, each way. */
export interface CapturePortCount {
  portId: number;
  port: string;
  in: number;
  out: number;
}

/** A capture, running or finished. */
export interface CaptureInfo {
  id: number;
  /** "vlan 10", "port tap:tap0". */
  source: string;
  vid: number;
  /** Where the pcap goes: a file's path, or "stream" (`dives ctl capture ...` on stdout). */
  to: string;
  counters: Record<(typeof CAPTURE_COUNTERS.names)[number], number>;
  ports: CapturePortCount[];
  /** Null while it runs. */
  ended: CaptureEnd | null;
}

export interface CapturesInfo {
  captures: CaptureInfo[];
  /** Every capture's counters since the switch started, finished ones included. */
  totals: Record<(typeof CAPTURE_COUNTERS.names)[number], number>;
}

/** What a mirror copies: every frame a VLAN takes in, or one port's frames both ways. */
export type MirrorSource = CaptureSource;

export interface MirrorInfo {
  id: number;
  /** "vlan 10", "port tap:tap0". */
  source: string;
  /** The monitoring TAP's port name ("tap:mon0"). */
  to: string;
  counters: Record<(typeof MIRROR_COUNTERS.names)[number], number>;
}

export interface MirrorsInfo {
  mirrors: MirrorInfo[];
  /** Every mirror's counters, removed ones included. */
  totals: Record<(typeof MIRROR_COUNTERS.names)[number], number>;
}

/** How a source is written in commands and the running-config. */
export function formatSource(s: CaptureSource): string {
  return 'vid' in s ? `vlan ${s.vid}` : `port ${s.port}`;
}
