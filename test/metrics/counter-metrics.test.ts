// Tests for src/metrics/counter-metrics.ts and src/metrics/switch-metrics.ts against the
// sample switch: every counter set is exported, every counter of every set reaches a
// scrape with its value, every family name is valid and served once, and Prometheus's own
// promtool takes the scrape. No threads; promtool is the real one.

import test from 'ava';
import { COUNTER_SETS } from '../../src/core/counters.js';
import { createCommandRegistry } from '../../src/control/commands/create-command-registry.js';
import { sampleSwitch } from '../../src/docs/sample-data.js';
import { COUNTER_METRICS, counterFamilyName, setFamilies, unexportedSets } from '../../src/metrics/counter-metrics.js';
import { renderExposition, validFamily } from '../../src/metrics/exposition.js';
import { metricCatalogue, scrapeMetrics } from '../../src/metrics/switch-metrics.js';
import { promTest, promtoolCheck } from '../helpers/promtool.js';

test('every counter set of src/core/counters.ts is exported (add a line to src/metrics/counter-metrics.ts for a new one)', (t) => {
  t.deepEqual(unexportedSets().map((s) => `${s.per} (${s.shownBy})`), []);
  t.is(new Set(COUNTER_METRICS.map((m) => m.set)).size, COUNTER_METRICS.length, 'each set once');
});

test('a counter\'s family is named by its set\'s subject and its name, the subject not twice', (t) => {
  t.is(counterFamilyName('dives_vlan', 'left-port-drops'), 'dives_vlan_left_port_drops_total');
  t.is(counterFamilyName('dives_mirror', 'mirror-full'), 'dives_mirror_full_total');
  t.is(counterFamilyName('dives_peer_socket', 'no-port'), 'dives_peer_socket_no_port_total');
});

test('every family has a valid name, a counter\'s ends in _total, and none is served twice', (t) => {
  const all = metricCatalogue();
  for (const f of all) {
    t.true(validFamily(f), f.name);
    t.is(f.name.endsWith('_total'), f.type === 'counter', f.name);
    t.true(f.help.length > 10, f.name);
  }
  t.is(new Set(all.map((f) => f.name)).size, all.length, all.map((f) => f.name).join('\n'));
});

test('a scrape of the sample switch has every counter of every set, with the values its show command printed', async (t) => {
  const sw = sampleSwitch();
  const registry = createCommandRegistry();
  const families = await scrapeMetrics(registry, sw);
  const errors = families.find((f) => f.name === 'dives_scrape_errors');
  t.deepEqual(errors?.samples, [], 'every show command answered');
  for (const m of COUNTER_METRICS) {
    const doc = (await registry.run(m.set.shownBy.split(' '), { sw, vid: null })).json;
    const rows = m.rows(doc);
    t.true(rows.length > 0, `the sample switch has ${m.set.per} records in "${m.set.shownBy}"`);
    for (const f of setFamilies(m)) {
      const served = families.find((x) => x.name === f.spec.name);
      t.truthy(served, f.spec.name);
      t.deepEqual(served?.samples, f.samples(rows), f.spec.name);
    }
    for (const name of m.set.names) {
      const served =
        m.reasons === undefined
          ? families.some((f) => f.name === counterFamilyName(m.subject, name) && f.samples.length === rows.length)
          : families.some((f) => f.name === `${m.subject}_${m.reasons?.word}_total` && f.samples.filter((s) => s.labels[s.labels.length - 1] === name).length === rows.length);
      t.true(served, `${m.set.per} counter ${name}`);
    }
  }
  // A value the sample switch has set, end to end: VLAN 10's flooded count, and a port's drop.
  const text = renderExposition(families);
  t.true(text.includes('dives_vlan_flooded_total{vid="10"} 20\n'));
  const port = sw.ports.find((p) => Object.values(p.drops).some((n) => n > 0));
  const [reason, n] = Object.entries(port?.drops ?? {}).find(([, v]) => v > 0) ?? ['', 0];
  t.true(text.includes(`dives_port_drops_total{vid="${port?.vid}",port="${port?.name}",kind="${port?.kind}",reason="${reason}"} ${n}\n`));
  t.regex(text, /^dives_build_info\{version="\d+\.\d+\.\d+",node="v\d+\.\d+\.\d+"\} 1$/m);
});

test('a show command that fails leaves its families without samples and says so', async (t) => {
  const sw = sampleSwitch();
  sw.failNext('showPorts', new Error('boom'));
  const families = await scrapeMetrics(createCommandRegistry(), sw);
  t.deepEqual(families.find((f) => f.name === 'dives_port_rx_frames_total')?.samples, []);
  t.deepEqual(families.find((f) => f.name === 'dives_scrape_errors')?.samples, [{ labels: ['show ports: EINTERNAL'], value: 1 }]);
  t.true((families.find((f) => f.name === 'dives_vlan_fdb_entries')?.samples.length ?? 0) > 0, 'the others are there');
});

promTest('promtool takes a scrape of the sample switch', async (t) => {
  const r = promtoolCheck(renderExposition(await scrapeMetrics(createCommandRegistry(), sampleSwitch())));
  t.is(r.code, 0, r.output);
  t.is(r.output, '');
});

test('the counter sets are all in COUNTER_SETS order', (t) => {
  const order = COUNTER_SETS.filter((s) => COUNTER_METRICS.some((m) => m.set === s));
  t.is(order.length, COUNTER_METRICS.length);
});
