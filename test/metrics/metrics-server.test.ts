// `dives start --metrics HOST:PORT` as Prometheus meets it: a real switch with QEMU-protocol
// VMs exchanging frames, scraped over HTTP; its port counters are those `dives ctl --json
// show ports` prints at the same moment (no frames flowing meanwhile), and the scrape passes
// Prometheus's own `promtool check metrics` (in CI a missing promtool fails). Only /metrics answers; HEAD and gzip work;
// a bad address or a port in use stops the start with a line that says so.

import test, { type ExecutionContext } from 'ava';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { PORT_DROPS } from '../../src/core/counters.js';
import type { PortInfo } from '../../src/control/switch-api.js';
import { freeUdpPort, runCtl, tempDir } from '../helpers/ctl-process.js';
import { DivesProcess } from '../helpers/dives-process.js';
import { freeTcpPort } from '../helpers/guest.js';
import { promTest, promtoolCheck } from '../helpers/promtool.js';
import { QemuClient } from '../helpers/qemu-client.js';
import { markerFrame } from '../helpers/frames.js';

interface Got {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function get(port: number, path: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Every sample of a scrape, by `name{label="value",...}` in the order the labels were written. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

function key(name: string, labels: Record<string, string | number>): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`);
  return `${name}{${pairs.join(',')}}`;
}

async function metricsSwitch(t: ExecutionContext, extra: string[] = []): Promise<{ dir: string; metrics: number; listen: number; p: DivesProcess }> {
  const dir = tempDir(t);
  const [metrics, listen] = [await freeTcpPort(), await freeTcpPort()];
  const p = await DivesProcess.start(['-u', dir, '-p', String(await freeUdpPort()), '-d', String(await freeUdpPort()), '--no-discovery', '--metrics', `127.0.0.1:${metrics}`, ...extra], { cwd: dir });
  t.teardown(() => p.stop('SIGKILL'));
  if (!/DiVES switch up/.test(p.stderr)) throw new Error(`the switch did not start:\n${p.stderr}`);
  const r = await runCtl(['-u', dir, `vlan 10 listen 127.0.0.1 ${listen}`]);
  if (r.code !== 0) throw new Error(r.stderr);
  return { dir, metrics, listen, p };
}

async function showPorts(dir: string): Promise<PortInfo[]> {
  const r = await runCtl(['-u', dir, '--json', 'show', 'ports']);
  return (JSON.parse(r.stdout) as { ports: PortInfo[] }).ports;
}

/** A switch whose three VMs exchanged frames, then stopped: a scrape, show ports, and another scrape, in that order. */
async function quietScrape(t: ExecutionContext): Promise<{ before: string; after: string; ports: PortInfo[]; listen: number }> {
  const { dir, metrics, listen, p } = await metricsSwitch(t);
  t.regex(p.stderr, new RegExp(`metrics: serving Prometheus metrics at http://127\\.0\\.0\\.1:${metrics}/metrics`));
  const vms = [await QemuClient.connect({ port: listen }), await QemuClient.connect({ port: listen }), await QemuClient.connect({ port: listen })];
  t.teardown(() => vms.forEach((v) => v.close()));
  const macs = ['02:00:00:00:01:01', '02:00:00:00:01:02', '02:00:00:00:01:03'];
  // Each VM says hello (flooded to the two others), then a's unicast to b, 20 times, of growing size.
  for (let i = 0; i < 3; i++) {
    vms[i].send(markerFrame('ff:ff:ff:ff:ff:ff', macs[i], 'hello'));
    for (let j = 0; j < 3; j++) if (j !== i) await vms[j].waitFrames(vms[j].frames.length + 1).catch(() => undefined);
  }
  for (let i = 0; i < 20; i++) vms[0].send(markerFrame(macs[1], macs[0], `to b ${i}`, 64 + i * 10));
  await vms[1].waitFrames(2 + 20);
  // No frame flows from here on: a scrape before and after show ports must agree with it.
  const before = (await get(metrics, '/metrics')).body.toString();
  const ports = await showPorts(dir);
  const after = (await get(metrics, '/metrics')).body.toString();
  return { before, after, ports, listen };
}

test('a scrape\'s port counters are those show ports prints at the same moment', async (t) => {
  t.timeout(60_000);
  const { before, after, ports, listen } = await quietScrape(t);
  t.is(before.replace(/^dives_ring_used_bytes.*$/gm, ''), after.replace(/^dives_ring_used_bytes.*$/gm, ''), 'nothing moved between the scrapes');
  const s = samples(after);
  t.is(ports.length, 3);
  for (const port of ports) {
    const labels = { vid: port.vid, port: port.name, kind: port.kind };
    t.is(s.get(key('dives_port_rx_frames_total', labels)), port.rxFrames, port.name);
    t.is(s.get(key('dives_port_rx_bytes_total', labels)), port.rxBytes, port.name);
    t.is(s.get(key('dives_port_tx_frames_total', labels)), port.txFrames, port.name);
    t.is(s.get(key('dives_port_tx_bytes_total', labels)), port.txBytes, port.name);
    for (const reason of PORT_DROPS.names) t.is(s.get(key('dives_port_drops_total', { ...labels, reason })), port.drops[reason], `${port.name} ${reason}`);
  }
  t.is(ports.find((x) => x.name.endsWith('#1'))?.rxFrames, 21, 'the counters counted something');
  t.is(s.get(key('dives_vlan_fdb_entries', { vid: 10 })), 3);
  t.is(s.get(key('dives_listener_connections', { vid: 10, listener: `127.0.0.1:${listen}` })), 3);
  t.is(s.get(key('dives_events_total', { kind: 'vm-connected' })), 3);
  t.is(s.get(key('dives_thread_up', { thread: 'forwarding thread 0', kind: 'forwarding' })), 1);
  t.is(s.get(key('dives_thread_restarts_total', { thread: 'forwarding thread 0', kind: 'forwarding' })), 0);
});

promTest('promtool check metrics takes a scrape of a switch that carried frames, without a lint', async (t) => {
  t.timeout(60_000);
  const { after } = await quietScrape(t);
  const check = promtoolCheck(after);
  t.is(check.code, 0, check.output);
  t.is(check.output, '', 'no lint either');
});

test('only GET and HEAD of /metrics answer; the text comes gzipped when asked', async (t) => {
  const { metrics } = await metricsSwitch(t);
  const plain = await get(metrics, '/metrics?probe=1');
  t.is(plain.status, 200);
  t.is(plain.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  t.regex(plain.body.toString(), /^# HELP dives_build_info /);
  const zipped = await get(metrics, '/metrics', { headers: { 'Accept-Encoding': 'gzip' } });
  t.is(zipped.headers['content-encoding'], 'gzip');
  t.regex(gunzipSync(zipped.body).toString(), /^# HELP dives_build_info /);
  const head = await get(metrics, '/metrics', { method: 'HEAD' });
  t.is(head.status, 200);
  t.is(head.body.length, 0);
  t.is((await get(metrics, '/')).status, 404);
  t.is((await get(metrics, '/metricsx')).status, 404);
  const post = await get(metrics, '/metrics', { method: 'POST' });
  t.is(post.status, 405);
  t.is(post.headers.allow, 'GET, HEAD');
});

test('a bad --metrics address, or one in use, stops the start with what is wrong', async (t) => {
  const dir = tempDir(t);
  const bad = await DivesProcess.start(['-u', dir, '--no-discovery', '--metrics', 'localhost9470'], { cwd: dir });
  t.is(await bad.exited, 1);
  t.regex(bad.stderr, /error not starting: --metrics "localhost9470": no port; give HOST:PORT, e\.g\. 127\.0\.0\.1:9470/);

  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  t.teardown(() => taken.close());
  const port = (taken.address() as { port: number }).port;
  const busy = await DivesProcess.start(['-u', tempDir(t), '--no-discovery', '--metrics', `127.0.0.1:${port}`], { cwd: dir });
  t.is(await busy.exited, 1);
  t.regex(busy.stderr, new RegExp(`error not starting: --metrics 127\\.0\\.0\\.1:${port}: cannot listen: listen EADDRINUSE`));
});
