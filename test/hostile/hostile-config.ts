// The robustness suite's bounds (what its checks hold the switch to) and its sizes (the
// short budget `npm run test:hostile` and .ci/run use, and the full ones behind --full),
// each named once so the runner, the figures it prints and docs/operations.md agree.
// Read by every file of test/hostile/; no I/O.

/** What a check fails on. Changing one is changing what "robust" means: say why in the commit. */
export const BOUNDS = {
  /** Pings between the two TAPs of VLAN 10 that may go unanswered over the whole run. */
  pingsLostMax: 0,
  /**
   * RSS after the run (after its settle) over RSS before it; also per memory-heavy scenario.
   * The rings that still exist then (the TAPs', the peer thread's) are allowed on top: their
   * pages stay resident once a flood touched them, and the memory budget bounds them.
   */
  rssAfterMaxRatio: 1.2,
  /** Open fds after the run may exceed those before it by this many. */
  fdsAfterSlack: 0,
  /** Threads after the run may exceed those before it by this many. */
  threadsAfterSlack: 0,
  /** Exits of the switch process and restarts of its threads over the run. */
  crashesMax: 0,
  /**
   * Log lines one scenario may make the switch write at --log-level info (house style 5c:
   * log lines an outsider can trigger are a shared resource and need a bound).
   */
  logLinesPerScenarioMax: 100,
  /** kill -9 of the peer to the switch showing it down: its expiry (3 intervals of 1 s) plus 2 intervals. */
  peerDetectMaxMs: 5000,
  /** The restarted peer's spawn to frames crossing again in both directions (a Node start included). */
  peerHealMaxMs: 10_000,
  /** A TAP re-created under its old name to `show taps` saying it is up again (the watch looks once a second). */
  tapReattachMaxMs: 3000,
  /** `ip link del` of a TAP to `show taps` calling it gone. */
  tapDetachMaxMs: 3000,
  /** SIGTERM under traffic to the process having exited. */
  sigtermExitMaxMs: 2000,
  /** A hostile QEMU length header to the switch closing that connection. */
  qemuCloseMaxMs: 3000,
  /** Connections, fake peers and flood MACs gone again after their source stops. */
  drainMaxMs: 8000,
} as const;

/** How long the switch is left alone before a figure is taken. */
export const SETTLE = {
  /** After each scenario, before its checks and its "after" figures. */
  scenarioMs: 2000,
  /** After the last scenario, before the run's "after" RSS, fds and threads. */
  finalMs: 8000,
  /** After set-up, before the run's "before" figures. */
  warmupMs: 3000,
} as const;

/** The resource sampler's period: RSS, fds and threads of the switch from /proc. */
export const SAMPLE_EVERY_MS = 150;

/** The ping between the TAPs: one echo request every this many seconds. */
export const PING_INTERVAL_S = 0.2;

export interface Sizes {
  /** Peer datagrams from strangers (random and mutated, half each). */
  strangerDatagrams: number;
  /** Peer datagrams spoofed from the known peer's address and port while it is up. */
  peerDatagrams: number;
  /** Malformed announcements on the discovery group. */
  badAnnouncements: number;
  /** Distinct fake hosts announced (each three times), by address. */
  fakePeers: number;
  /** Distinct fake hosts announced by a name that does not resolve. */
  fakeNames: number;
  /** Connections per hostile QEMU length kind (0, 13, 65536, 69633, 0xffffffff, 1..12, over the maximum). */
  qemuPerLength: number;
  /** Connections held at once: idle, half-closed (FIN sent), a length then silence. */
  idleConnections: number;
  halfClosedConnections: number;
  silentConnections: number;
  /** Control connections sending 16 KiB of garbage lines each. */
  ctlGarbageConnections: number;
  /** Control connections sending a 1 MiB line each. */
  ctlHugeLines: number;
  /** Control connections open at once (the switch takes 256). */
  ctlConcurrent: number;
  /** Requests sent on one control connection without reading the replies. */
  ctlPipelined: number;
  /** Frames with distinct source MACs through one QEMU port of VLAN 10. */
  macFloodFrames: number;
  /** VMs that connect and never read, and the 1514-byte broadcasts sent meanwhile. */
  nonReadingVms: number;
  nonReadingBroadcasts: number;
  /** kill -9 and restart cycles of the peer. */
  peerKills: number;
  /** `ip link del` and re-creation cycles of the third TAP. */
  tapDeletes: number;
}

/** The budget .ci/run spends: about a minute on two cores. */
export const SHORT: Sizes = {
  strangerDatagrams: 20_000,
  peerDatagrams: 20_000,
  badAnnouncements: 10_000,
  fakePeers: 300,
  fakeNames: 20,
  qemuPerLength: 10,
  idleConnections: 500,
  halfClosedConnections: 250,
  silentConnections: 250,
  ctlGarbageConnections: 20,
  ctlHugeLines: 4,
  ctlConcurrent: 300,
  ctlPipelined: 200,
  macFloodFrames: 100_000,
  nonReadingVms: 50,
  nonReadingBroadcasts: 2000,
  peerKills: 1,
  tapDeletes: 2,
};

/** `npm run test:hostile -- --full`: the full sizes, several minutes. */
export const FULL: Sizes = {
  strangerDatagrams: 500_000,
  peerDatagrams: 500_000,
  badAnnouncements: 200_000,
  fakePeers: 5000,
  fakeNames: 200,
  qemuPerLength: 100,
  idleConnections: 4000,
  halfClosedConnections: 2000,
  silentConnections: 2000,
  ctlGarbageConnections: 200,
  ctlHugeLines: 40,
  ctlConcurrent: 1000,
  ctlPipelined: 2000,
  macFloodFrames: 1_000_000,
  nonReadingVms: 200,
  nonReadingBroadcasts: 10_000,
  peerKills: 3,
  tapDeletes: 10,
};

/** A scenario may run this long before it is stopped and counted as failed. */
export function scenarioTimeoutMs(full: boolean): number {
  return full ? 900_000 : 120_000;
}
