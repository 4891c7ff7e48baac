// bench (network): `npm run bench` measures DiVES beside its peers in the same run —
// one host (vde_switch, the Linux bridge), two hosts (vxvde, kernel VXLAN), DiVES as a
// VXLAN VTEP beside the kernel's (against the kernel's on both hosts), QEMU ports at
// VM line rate (qemu-load endpoints against QEMU's own hub and a direct pair), QEMU guests
// (TCG, a functional check), and what one hand-off between two threads costs warm and
// after idle, two hosts with a cluster key against the same without one (keyed), and what
// sealing a peer datagram costs with each AEAD library (crypto) —
// prints a table of DiVES/peer ratios and writes the results as JSON;
// `npm run bench -- scale` runs the scale runs instead, and `npm run bench -- one-host
// qemu` picks sections. A benchmark, not a test. Runs on its own main thread; every
// topology runs in network namespaces it removes.

import { sweepStale } from '../test/helpers/netns.js';
import { ensureTools, printSection, SECONDS, writeResults, type Section } from './bench-kit.js';
import { crypto, printCryptoSection, type CryptoSection } from './crypto.js';
import { handOff, type HandOffRow } from './hand-off.js';
import { scale } from './scale.js';
import { oneHost } from './topologies-one-host.js';
import { twoHosts, twoHostsKeyed } from './topologies-two-hosts.js';
import { vxlan } from './topology-vxlan.js';
import { qemu as qemuGuests } from './topology-qemu.js';
import { printLoadSection, qemuLoad, type LoadSection } from './topology-qemu-load.js';

type Any =
  | { kind: 'net'; section: Section }
  | { kind: 'load'; section: LoadSection }
  | { kind: 'hand-off'; section: { title: string; rows: HandOffRow[] } }
  | { kind: 'crypto'; section: CryptoSection };

const SECTIONS: Record<string, () => Promise<Any>> = {
  'one-host': async () => ({ kind: 'net', section: await oneHost() }),
  'two-hosts': async () => ({ kind: 'net', section: await twoHosts() }),
  keyed: async () => ({ kind: 'net', section: await twoHostsKeyed() }),
  vxlan: async () => ({ kind: 'net', section: await vxlan() }),
  qemu: async () => ({ kind: 'load', section: await qemuLoad() }),
  'qemu-guests': async () => ({ kind: 'net', section: await qemuGuests() }),
  'hand-off': async () => ({ kind: 'hand-off', section: { title: 'hand-off between two threads', rows: await handOff() } }),
  crypto: async () => ({ kind: 'crypto', section: await crypto() }),
};

async function main(argv: string[]): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('npm run bench needs root: it builds network namespaces and TAPs');
  const unknown = argv.filter((a) => a !== 'scale' && !(a in SECTIONS));
  if (unknown.length > 0) throw new Error(`npm run bench: unknown section ${unknown.join(', ')}; choose from scale, ${Object.keys(SECTIONS).join(', ')}`);
  await ensureTools();
  await sweepStale();
  if (argv.includes('scale')) {
    await scale();
    return;
  }
  const names = argv.length === 0 ? Object.keys(SECTIONS) : argv;
  console.log(`bench: iperf3 ${SECONDS} s TCP and UDP-64, ping ×50; Node ${process.version}; ${new Date().toISOString()}`);
  const sections: Any[] = [];
  for (const name of names) {
    const s = await SECTIONS[name]();
    if (s.kind === 'net') printSection(s.section);
    else if (s.kind === 'load') printLoadSection(s.section);
    else if (s.kind === 'crypto') printCryptoSection(s.section);
    sections.push(s);
  }
  console.log(`\nresults: ${writeResults('net', { sections: sections.map((s) => s.section) })}`);
}

await main(process.argv.slice(2));
