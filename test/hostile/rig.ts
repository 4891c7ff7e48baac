// Rig: the switch under test and everything around it for the robustness suite. The switch
// runs as a real `dives start` child in the namespace the runner runs in (SW_ADDR on a veth
// underlay), with three TAPs in VLAN 10 (two handed to VM namespaces that ping each other
// throughout, one left for the deleted-underneath scenario), QEMU listeners in VLANs 10 and
// 20, discovery on a private group, and a second `dives start` in its own namespace as its
// static peer (PEER_ADDR), to be killed and restarted. Runs on the hostile runner's main
// thread (test/hostile/run-inside.ts); the namespaces are made and removed by
// test/hostile/run-hostile.ts.

import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCtlCommand } from '../../src/control/ctl-client.js';
import { ip } from '../helpers/netns.js';
import { QemuClient } from '../helpers/qemu-client.js';
import { Fuzz } from './fuzz.js';
import { PING_INTERVAL_S, SAMPLE_EVERY_MS, type Sizes } from './hostile-config.js';
import { PingMonitor } from './ping-monitor.js';
import { ProcSampler } from './proc-sampler.js';
import { RawUdp } from './raw-udp.js';
import { timeUntil } from './scenario.js';
import { BIN, SwitchProcess } from './switch-process.js';

/** What run-hostile.ts made and hands to run-inside.ts. */
/** The switch under test's storm-control unknown rate on VLAN 10 (frames/s per port). */
export const STORM_UNKNOWN_RATE = 20_000;

export interface RigPlan {
  seed: number;
  full: boolean;
  only: string[] | null;
  /** Times the scenarios run over the same switch (the one that ends it, once, at the end). */
  rounds: number;
  /** The fixture id: interface names start with it. */
  id: string;
  nsSwitch: string;
  nsPeer: string;
  nsVmA: string;
  nsVmB: string;
  /** A fresh directory for sockets and rc files, removed by run-hostile.ts. */
  dir: string;
  /** Where the logs and the figures' JSON go (kept). */
  resultsDir: string;
  stamp: string;
}

export const SW_ADDR = '10.77.0.1';
export const PEER_ADDR = '10.77.0.2';
export const PEER_PORT = 3333;
export const DISCOVERY_PORT = 3535;
export const QEMU_TCP_PORT = 4000;
export const VM_A = { addr: '10.88.10.1', mac: '02:d1:7e:00:0a:01' };
export const VM_B = { addr: '10.88.10.2', mac: '02:d1:7e:00:0a:02' };
const TAP_C_MAC = '02:d1:7e:00:0a:03';
/** How often the rig looks whether the static peer is up (shorter than its 3 s expiry). */
const PEER_WATCH_MS = 500;
/** VLANs with local ports on the switch under test. */
export const LOCAL_VIDS: ReadonlySet<number> = new Set([10, 20]);

export function macBytes(mac: string): Buffer {
  return Buffer.from(mac.split(':').map((h) => parseInt(h, 16)));
}

export class Rig {
  sut!: SwitchProcess;
  peer!: SwitchProcess;
  ping!: PingMonitor;
  sampler!: ProcSampler;
  /** A VM on the switch's VLAN 20 listener that reads everything: where frames from the peer arrive. */
  reader!: QemuClient;
  /** The reader's port id on the switch. */
  readerPort = -1;
  readonly raw = new RawUdp();
  readonly fz: Fuzz;
  readonly group: string;
  readonly tapA: string;
  readonly tapB: string;
  /** The TAP deleted underneath and made again. */
  readonly tapC: string;
  readonly sutDir: string;
  readonly peerDir: string;
  readonly peerSock: string;
  readonly v10Sock: string;
  readonly v20Sock: string;
  /** When the peer watch saw the static peer not up (ms since the epoch). */
  readonly peerDownSeen: number[] = [];
  private peerWatch: NodeJS.Timeout | null = null;
  /** Every `dives start` the rig made, for close(). */
  private readonly processes: SwitchProcess[] = [];
  private readonly clients: QemuClient[] = [];

  private constructor(
    readonly plan: RigPlan,
    readonly sizes: Sizes,
  ) {
    this.fz = new Fuzz(plan.seed);
    this.group = `239.77.${(plan.seed % 250) + 1}.${((plan.seed >>> 8) % 250) + 1}`;
    [this.tapA, this.tapB, this.tapC] = ['a', 'b', 'c'].map((s) => `${plan.id}${s}`);
    this.sutDir = join(plan.dir, 'sut');
    this.peerDir = join(plan.dir, 'peer');
    this.v10Sock = join(this.sutDir, 'v10.sock');
    this.v20Sock = join(this.sutDir, 'v20.sock');
    this.peerSock = join(this.peerDir, 'v20.sock');
  }

  static async create(plan: RigPlan, sizes: Sizes): Promise<Rig> {
    const rig = new Rig(plan, sizes);
    mkdirSync(rig.sutDir, { recursive: true });
    mkdirSync(rig.peerDir, { recursive: true });
    await rig.startSut();
    rig.peer = await rig.startPeer();
    await rig.handTapsToVms();
    if ((await rig.waitPeerState('up', 15_000)) < 0) throw new Error(`the peer ${PEER_ADDR}:${PEER_PORT} did not come up`);
    rig.reader = await rig.qemu(rig.v20Sock);
    await timeUntil(async () => (rig.readerPort = (await rig.ports(20)).find((p) => p.kind === 'qemu')?.id ?? -1) >= 0, 5000);
    rig.ping = await PingMonitor.start(plan.nsVmA, VM_B.addr, PING_INTERVAL_S);
    rig.sampler = new ProcSampler(rig.sut.pid, SAMPLE_EVERY_MS);
    rig.sampler.start();
    rig.watchPeer();
    return rig;
  }

  private async startSut(): Promise<void> {
    const { nsSwitch } = this.plan;
    const taps = [
      [this.tapA, VM_A.mac],
      [this.tapB, VM_B.mac],
      [this.tapC, TAP_C_MAC],
    ];
    for (const [tap, mac] of taps) {
      await ip('-n', nsSwitch, 'tuntap', 'add', 'dev', tap, 'mode', 'tap');
      await ip('-n', nsSwitch, 'link', 'set', 'dev', tap, 'address', mac);
    }
    const rc: string[] = [
      'vlan 10',
      ...taps.map(([tap]) => `  tap ${tap}`),
      `  listen unix ${this.v10Sock}`,
      // As an operator on a shared network would: a VM may flood unknown unicast (a
      // source-MAC flood's random destinations) at 20,000 frames/s, its own frames past that dropped.
      `  storm-control unknown ${STORM_UNKNOWN_RATE}`,
      'exit',
      'vlan 20',
      `  listen ${SW_ADDR} ${QEMU_TCP_PORT}`,
      `  listen unix ${this.v20Sock}`,
      'exit',
      `peer ${PEER_ADDR} ${PEER_PORT}`,
    ];
    const rcFile = join(this.sutDir, 'dives.rc');
    writeFileSync(rcFile, `${rc.join('\n')}\n`);
    const args = ['--no-console', '--log-level', 'info', '-h', SW_ADDR, '-p', String(PEER_PORT), '-d', String(DISCOVERY_PORT), '-m', this.group];
    this.sut = await SwitchProcess.start('switch under test', [...args, '-u', this.sutDir, '-c', rcFile], {
      cwd: this.sutDir,
      logFile: join(this.plan.resultsDir, `hostile-${this.plan.stamp}-switch.log`),
    });
    this.processes.push(this.sut);
  }

  /** Start (or restart after a kill) the peer switch: VLAN 20 on a UNIX listener, the switch under test as its static peer. */
  async startPeer(): Promise<SwitchProcess> {
    const rcFile = join(this.peerDir, 'dives.rc');
    writeFileSync(rcFile, `vlan 20 listen unix ${this.peerSock}\npeer ${SW_ADDR} ${PEER_PORT}\n`);
    const args = ['--no-console', '--no-discovery', '--log-level', 'info', '-h', PEER_ADDR, '-p', String(PEER_PORT), '-u', this.peerDir, '-c', rcFile];
    const p = await SwitchProcess.start('peer', args, {
      netns: this.plan.nsPeer,
      cwd: this.peerDir,
      logFile: join(this.plan.resultsDir, `hostile-${this.plan.stamp}-peer.log`),
    });
    this.processes.push(p);
    this.peer = p;
    return p;
  }

  /** The TAPs were attached in the switch's namespace; the VMs get A and B, addressed, and C stays, up. */
  private async handTapsToVms(): Promise<void> {
    const { nsSwitch, nsVmA, nsVmB } = this.plan;
    for (const [tap, ns, vm] of [
      [this.tapA, nsVmA, VM_A],
      [this.tapB, nsVmB, VM_B],
    ] as const) {
      await ip('-n', nsSwitch, 'link', 'set', 'dev', tap, 'netns', ns);
      await ip('-n', ns, 'addr', 'add', `${vm.addr}/24`, 'dev', tap);
      await ip('-n', ns, 'link', 'set', 'dev', tap, 'up');
    }
    await ip('-n', nsSwitch, 'link', 'set', 'dev', this.tapC, 'up');
  }

  /** A QEMU-protocol VM on `path`, closed by close(). */
  async qemu(path: string): Promise<QemuClient> {
    const c = await QemuClient.connect({ path });
    this.clients.push(c);
    return c;
  }

  /** Run a command on the switch's control socket (in-process client) and return its JSON reply. */
  async ctl<T>(line: string, timeoutMs = 15_000): Promise<T> {
    const r = await runCtlCommand(this.sutDir, [line], { json: true, timeoutMs });
    if (!r.reply.ok) throw new Error(`"${line}": error ${r.reply.code}: ${r.reply.message}`);
    return r.json as T;
  }

  /** `show ports` of one VLAN. */
  async ports(vid: number): Promise<PortJson[]> {
    return (await this.ctl<{ ports: PortJson[] }>(`vlan ${vid} show ports`)).ports;
  }

  /** Run the real `dives ctl -u DIR WORDS...`, as an operator would. */
  dvCtl(words: string[], timeoutMs = 20_000): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(process.execPath, [BIN, 'ctl', '-u', this.sutDir, ...words], { timeout: timeoutMs, killSignal: 'SIGKILL', env: { ...process.env, DIVES_HISTORY: '' } }, (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** Wait until the switch shows its static peer in `state`: ms it took, or -1. */
  waitPeerState(state: 'up' | 'down', timeoutMs: number, everyMs = 100): Promise<number> {
    return timeUntil(async () => (await this.peerInfo())?.state === state, timeoutMs, everyMs);
  }

  async peerInfo(): Promise<PeerJson | undefined> {
    const info = await this.ctl<PeersJson>('show peers');
    return info.peers.find((p) => p.address === `${PEER_ADDR}:${PEER_PORT}`);
  }

  /**
   * Look at the static peer every PEER_WATCH_MS: it is idle and healthy, so any moment the
   * switch shows it down (outside the scenario that kills it) is a robustness failure.
   */
  private watchPeer(): void {
    let busy = false;
    this.peerWatch = setInterval(() => {
      if (busy || !this.sut.alive()) return;
      busy = true;
      this.peerInfo().then(
        (p) => {
          if (p?.state !== 'up') this.peerDownSeen.push(Date.now());
          busy = false;
        },
        () => (busy = false),
      );
    }, PEER_WATCH_MS);
  }

  /** Stop everything the rig started; never throws. The namespaces go with run-hostile.ts. */
  async close(): Promise<void> {
    this.sampler?.stop();
    if (this.peerWatch !== null) clearInterval(this.peerWatch);
    for (const c of this.clients) c.close();
    if (this.ping?.running) await this.ping.stop().catch(() => undefined);
    await Promise.all(this.processes.map((p) => p.stop(3000).catch(() => undefined)));
    this.raw.close();
  }
}

/** The parts of `json show peers` the suite reads (src/peer/peer-info.ts). */
export interface PeerJson {
  address: string;
  learned: 'discovered' | 'static';
  state: 'up' | 'down';
  framesIn: number;
  keepalivesIn: number;
  drops: Record<string, number>;
}

export interface PeersJson {
  peers: PeerJson[];
  strangers: number;
  counters: Record<string, number>;
  discovery: { counters: Record<string, number> } | null;
}

export interface PortJson {
  id: number;
  name: string;
  kind: string;
  vid: number;
  rxFrames: number;
  txFrames: number;
  drops: Record<string, number>;
}

export interface VlanJson {
  vid: number;
  macs: number;
  counters: Record<string, number>;
}

export interface ListenerJson {
  vid: number;
  address: string;
  connections: number;
  refused?: Record<string, number>;
}
