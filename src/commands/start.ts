// `dives start`: parses the original DiVES options and runs a switch until
// SIGINT/SIGTERM. Only flags and printing here; the work is src/switch/run-switch.ts.
// Runs on the main thread.

import { Command, Flags } from '@oclif/core';
import { resolve } from 'node:path';
import { createLogger, isLogLevel } from '../core/log.js';
import { runSwitch } from '../switch/run-switch.js';
import { DEFAULT_MAX_PEERS, DEFAULT_PEER_RATE } from '../peer/discovery-limits.js';
import { DEFAULT_MAX_CLOCK_SKEW, MAX_MAX_PEERS, MAX_PEER_RATE } from '../peer/peering-options.js';
import { DEFAULT_MAX_VTEPS } from '../vxlan/vxlan-sockets.js';
import { VXLAN_PORT } from '../vxlan/vxlan-header.js';

export default class Start extends Command {
  static override summary = 'Run a DiVES switch on this host, with a control console on stdio and on DIR/dives.ctl.';

  static override description = `Starts one switch. Ports are attached with console commands (see "help" at the
dives> prompt, or docs/console.md), typed at the console or put in a run-control file given with -c.
Logs go to stderr; console replies go to stdout. Stop it with Ctrl-C or SIGTERM.`;

  static override examples = [
    '<%= config.bin %> start',
    '<%= config.bin %> start -c /etc/dives/dives.rc -u /run/dives',
    'printf "vlan 10\\ntap tap0\\nlisten 127.0.0.1 4000\\n" > dives.rc && sudo <%= config.bin %> start -c dives.rc',
    '<%= config.bin %> start --no-console -c /etc/dives/dives.rc -u /run/dives --ctl-group dives --log-format json',
    '<%= config.bin %> start -c /etc/dives/dives.rc --metrics 127.0.0.1:9470',
  ];

  static override flags = {
    config: Flags.string({ char: 'c', helpValue: 'FILE', description: 'run-control file: console commands run at start; any error stops the start' }),
    host: Flags.string({ char: 'h', helpValue: 'ADDRESS', default: '127.0.0.1', description: 'unicast address this switch peers on' }),
    port: Flags.integer({ char: 'p', helpValue: 'PORT', default: 3333, min: 1, max: 65535, description: 'unicast UDP port this switch peers on' }),
    'discovery-port': Flags.integer({ char: 'd', helpValue: 'PORT', default: 3535, min: 1, max: 65535, description: 'discovery port' }),
    'discovery-group': Flags.string({ char: 'm', helpValue: 'ADDRESS', default: '239.13.13.13', description: 'discovery multicast address' }),
    'socket-dir': Flags.string({ char: 'u', helpValue: 'DIR', default: './', description: 'directory to store UNIX sockets in' }),
    // Peering (src/peer/peering-options.ts checks these).
    'no-discovery': Flags.boolean({ default: false, description: 'do not announce or listen for switches; peer only with static peers ("peer HOST PORT")' }),
    'discovery-interval': Flags.string({ helpValue: 'SECONDS', default: '1', description: 'seconds between announcements and keepalives (decimals allowed)' }),
    'peer-expiry': Flags.integer({ helpValue: 'N', default: 3, min: 1, max: 1000, description: 'a peer not heard for N intervals expires and its MACs are flushed' }),
    'multicast-ttl': Flags.integer({ helpValue: 'TTL', default: 1, min: 0, max: 255, description: 'TTL of announcements (1: this network only)' }),
    'max-peers': Flags.integer({ helpValue: 'N', default: DEFAULT_MAX_PEERS, min: 1, max: MAX_MAX_PEERS, description: 'discovered peers at most; announcements of more are refused and counted (show peers: peer-limit); static peers do not count' }),
    'peer-rate': Flags.integer({ helpValue: 'N', default: DEFAULT_PEER_RATE, min: 1, max: MAX_PEER_RATE, description: 'new discovered peers a second at most; more are refused and counted (show peers: peer-rate) until a later announcement' }),
    'discovery-format': Flags.string({ default: 'text', options: ['text', 'sockaddr'], description: 'what announcements say: HOST:PORT text, or the raw sockaddr the original DiVES sends and parses (its switches exit on text); never both' }),
    'key-file': Flags.string({ helpValue: 'FILE', description: 'the cluster key (made by `dives keygen FILE`, mode 0600): peers must hold it; datagrams and announcements are sealed (docs/security.md). Default: no key, the original wire format' }),
    encrypt: Flags.boolean({ default: true, allowNo: true, description: 'with --key-file, encrypt frames between peers; --no-encrypt only authenticates them' }),
    'max-clock-skew': Flags.integer({ helpValue: 'SECONDS', default: DEFAULT_MAX_CLOCK_SKEW, min: 1, max: 86400, description: 'with --key-file, how far a peer\'s keepalive or announcement clock may be from this host\'s (older ones are refused as replays)' }),
    'multicast-if': Flags.string({ helpValue: 'ADDRESS', description: 'IPv4 address of the interface discovery uses (default: the -h address)' }),
    // VXLAN (src/vxlan/vxlan-sockets.ts checks these); the sockets are bound with the first `vxlan remote` or `vxlan group`.
    'vxlan-port': Flags.integer({ helpValue: 'PORT', default: VXLAN_PORT, min: 1, max: 65535, description: 'UDP port VXLAN VTEPs send to, and the default port of "vxlan remote" (Linux\'s default is 8472, vxvde\'s 14789)' }),
    'vxlan-local': Flags.string({ helpValue: 'ADDRESS', description: 'address of this host VXLAN datagrams leave from and groups are joined on (default: as the routing table says)' }),
    'vxlan-max-vteps': Flags.integer({ helpValue: 'N', default: DEFAULT_MAX_VTEPS, min: 1, max: 65535, description: 'VTEPs learned on VXLAN groups at most; datagrams from more are carried as the group\'s and counted (show vxlan: vtep-limit)' }),
    metrics: Flags.string({ helpValue: 'HOST:PORT', description: 'serve Prometheus metrics at http://HOST:PORT/metrics ([::1]:PORT for IPv6; 0.0.0.0:PORT for every interface); off by default' }),
    'ctl-group': Flags.string({ helpValue: 'GROUP', description: 'let GROUP use the control socket DIR/dives.ctl (mode 0660); default: owner only (0600)' }),
    'log-format': Flags.string({ default: 'text', options: ['text', 'json'], description: 'log lines on stderr as text, or as one JSON object each' }),
    'forwarding-threads': Flags.integer({ min: 1, max: 256, helpValue: 'N', description: 'forwarding threads at most (default: the cores this process may use); past it, VLANs share the least-loaded thread' }),
    'no-cpu-affinity': Flags.boolean({ default: false, description: 'leave every thread to the scheduler instead of pinning each forwarding thread, and the I/O threads of its VLANs\' TAPs, to one CPU' }),
    'no-peer-offload': Flags.boolean({ default: false, description: 'carry only plain Ethernet frames between peers, never offloaded TCP segments of up to 64 KiB (datagrams the underlay must fragment)' }),
    'ageing-time': Flags.integer({ min: 1, default: 300, helpValue: 'SECONDS', description: 'seconds a learned MAC lives without being seen' }),
    'log-level': Flags.string({ default: 'info', options: ['debug', 'info', 'warn', 'error', 'silent'], description: 'what to log on stderr' }),
    'max-connections': Flags.integer({ min: 1, max: 65535, default: 256, helpValue: 'N', description: 'QEMU connections of the whole switch at most; more are closed at once and counted (a listener may have its own limit: listen ... max-connections N)' }),
    'memory-budget': Flags.integer({ min: 16, max: 1048576, default: 1024, helpValue: 'MIB', description: 'MiB every queue of the switch may hold together (rings of TAPs, peers and QEMU connections); a port that would pass it is refused' }),
    'no-console': Flags.boolean({ default: false, description: 'do not read commands from stdin (for daemons; use -c)' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Start);
    const level = flags['log-level'];
    const code = await runSwitch({
      rcFile: flags.config === undefined ? undefined : resolve(flags.config),
      host: flags.host,
      port: flags.port,
      discoveryGroup: flags['discovery-group'],
      discoveryPort: flags['discovery-port'],
      socketDir: resolve(flags['socket-dir']),
      ctlGroup: flags['ctl-group'],
      forwardingThreads: flags['forwarding-threads'],
      cpuAffinity: !flags['no-cpu-affinity'],
      peerOffload: !flags['no-peer-offload'],
      maxConnections: flags['max-connections'],
      memoryBudgetBytes: flags['memory-budget'] * 2 ** 20,
      vxlan: { port: flags['vxlan-port'], local: flags['vxlan-local'], maxVteps: flags['vxlan-max-vteps'] },
      metrics: flags.metrics,
      peering: {
        discovery: !flags['no-discovery'],
        interval: flags['discovery-interval'],
        expiry: flags['peer-expiry'],
        ttl: flags['multicast-ttl'],
        multicastIf: flags['multicast-if'],
        maxPeers: flags['max-peers'],
        peerRate: flags['peer-rate'],
        discoveryFormat: flags['discovery-format'] === 'sockaddr' ? 'sockaddr' : 'text',
        keyFile: flags['key-file'],
        encrypt: flags.encrypt,
        maxClockSkew: flags['max-clock-skew'],
      },
      ageingTimeMs: flags['ageing-time'] * 1000,
      console: !flags['no-console'],
      log: createLogger(isLogLevel(level) ? level : 'info', process.stderr, flags['log-format'] === 'json' ? 'json' : 'text'),
    });
    this.exit(code);
  }
}
