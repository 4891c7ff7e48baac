// SwitchReports: how `show vlans`, `show ports` and `show threads` are put together.
// Their counters live with the threads that count them: each forwarding thread answers
// for its VLANs and ports, each kind's I/O threads for what they drop on the way in and
// out (PortKindProvider.ioDrops), the doorbells for wake-ups. This gathers them by VLAN,
// port and thread. Main thread.

import { PORT_DROPS, THREAD_COUNTERS, VLAN_COUNTERS, type PortDropName } from '../core/counters.js';
import type { PortDrops } from '../core/port-kind.js';
import type { KindThread, PortKindProvider } from '../core/port-kind-provider.js';
import type { ForwardingPool } from '../forwarding/forwarding-pool.js';
import type { PortReport } from '../forwarding/forwarding-messages.js';
import type { LeftPorts } from '../forwarding/left-ports.js';
import type { PortTable } from '../forwarding/port-table.js';
import type { PortInfo, ThreadInfo, VlanInfo } from '../control/switch-api.js';
import type { ThreadSupervisor } from '../core/thread-supervisor.js';

export interface SwitchParts {
  pool: ForwardingPool;
  ports: PortTable;
  left: LeftPorts;
  /** Every kind of port, in PORT_KINDS order. */
  kinds: readonly PortKindProvider[];
}

/** Every VLAN in `vids` (entered or with ports), with what its forwarding thread counted. */
export async function reportVlans(parts: SwitchParts, vids: Iterable<number>): Promise<VlanInfo[]> {
  const { pool } = parts;
  const out = new Map<number, VlanInfo>();
  for (const vid of vids) {
    const reason = pool.downReason(vid);
    out.set(vid, { vid, ports: 0, macs: 0, workerThread: -1, forwarded: 0, flooded: 0, dropped: 0, state: reason === null ? 'up' : 'down', reason, counters: VLAN_COUNTERS.zero(), limits: pool.limitsOf(vid) });
  }
  await Promise.all(
    pool.threads
      .filter((t) => t.supervisor.state === 'up')
      .map(async (t) => {
        const r = await t.request({ type: 'query', what: 'vlans' });
        for (const v of r.vlans ?? []) {
          const c = v.counters;
          c['left-port-drops'] += parts.left.ioDrops(v.vid);
          out.set(v.vid, { vid: v.vid, ports: v.ports, macs: v.macs, workerThread: r.threadId, forwarded: c.forwarded, flooded: c.flooded, dropped: c.dropped, state: 'up', reason: null, counters: c, limits: pool.limitsOf(v.vid) });
        }
      }),
  );
  return [...out.values()].sort((a, b) => a.vid - b.vid);
}

/**
 * The ports of one VLAN (or all): the forwarding thread's counters per (VLAN, port) — a
 * peer port reports once for each VLAN it is a member of — with the drops its I/O
 * thread counted added in.
 */
export async function reportPorts(parts: SwitchParts, vid?: number): Promise<PortInfo[]> {
  const { pool, ports, kinds } = parts;
  const threads = (vid === undefined ? pool.threads : [pool.threadOf(vid)]).filter((t) => t !== undefined && t.supervisor.state === 'up');
  const reports: PortReport[] = [];
  await Promise.all(
    threads.map(async (t) => {
      const r = await t?.request({ type: 'query', what: 'ports', vid });
      reports.push(...(r?.ports ?? []));
    }),
  );
  const byId = new Map(reports.map((r) => [`${r.vid}/${r.portId}`, r]));
  const ioDrops = new Map<number, PortDrops>();
  for (const m of await Promise.all(kinds.map((k) => k.ioDrops()))) for (const [id, d] of m) ioDrops.set(id, d);
  const byKind = new Map(kinds.map((k) => [k.kind, k]));
  return ports
    .all()
    .flatMap((p) => byKind.get(p.kind)?.portRows?.(p, vid) ?? [p])
    .filter((p) => vid === undefined || p.vid === vid)
    .map((p) => {
      const r = byId.get(`${p.vid}/${p.id}`);
      const drops = r?.drops ?? PORT_DROPS.zero();
      for (const [name, n] of Object.entries(ioDrops.get(p.id) ?? {}) as [PortDropName, number][]) drops[name] += n;
      // The engine counts a frame as transmitted when it queued it; subtract what the
      // I/O thread then could not deliver, so tx means "left the port".
      const undelivered = drops['tap-write'];
      return {
        id: p.id,
        name: p.name,
        kind: p.kind,
        vid: p.vid,
        rxFrames: r?.rxFrames ?? 0,
        rxBytes: r?.rxBytes ?? 0,
        txFrames: Math.max(0, (r?.txFrames ?? 0) - undelivered),
        txBytes: r?.txBytes ?? 0,
        drops,
      };
    });
}

/** Every thread: the forwarding threads first, then each kind's I/O threads, in PORT_KINDS order. */
export async function reportThreads(parts: SwitchParts): Promise<ThreadInfo[]> {
  const { pool, kinds } = parts;
  // A query refreshes each forwarding thread's no-vlan count; a down thread keeps its last.
  await Promise.all(pool.threads.filter((t) => t.supervisor.state === 'up').map((t) => t.request({ type: 'sync' }).catch(() => undefined)));
  const info = (sv: ThreadSupervisor, cpu: number, vlans: number[], wakeups: number, extra: Partial<Record<(typeof THREAD_COUNTERS.names)[number], number>>): ThreadInfo => {
    const st = sv.status();
    return {
      name: st.name,
      kind: st.kind,
      state: st.state,
      cpu,
      vlans,
      lastDeath: st.lastDeath,
      reason: st.reason,
      counters: { ...THREAD_COUNTERS.zero(), restarts: st.restarts, wakeups, ...extra },
    };
  };
  const io = (t: KindThread): ThreadInfo => info(t.io, t.cpu, [], t.wakeups, {});
  return [
    ...pool.threads.map((t) => info(t.supervisor, t.cpu, [...t.vids].sort((a, b) => a - b), t.bell.wakeups, { 'no-vlan': t.noVlan })),
    ...kinds.flatMap((k) => k.threads().map(io)),
  ];
}
