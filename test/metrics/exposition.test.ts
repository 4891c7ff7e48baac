// Tests for src/metrics/exposition.ts: HELP and TYPE lines before each family's samples,
// label values and help text escaped as Prometheus reads them, and the spellings of NaN
// and the infinities. Pure units.

import test from 'ava';
import { escapeHelp, escapeLabelValue, formatValue, renderExposition, validFamily } from '../../src/metrics/exposition.js';

test('each family is its HELP and TYPE lines, then one line per sample', (t) => {
  const text = renderExposition([
    { name: 'dives_x_total', type: 'counter', help: 'Things.', labels: ['vid', 'port'], samples: [{ labels: [10, 'tap:tap0'], value: 3 }, { labels: [20, 'qemu:h:1#2'], value: 0 }] },
    { name: 'dives_up', type: 'gauge', help: 'Up.', labels: [], samples: [{ labels: [], value: 1 }] },
    { name: 'dives_none_total', type: 'counter', help: 'Nothing yet.', labels: ['vid'], samples: [] },
  ]);
  t.is(
    text,
    [
      '# HELP dives_x_total Things.',
      '# TYPE dives_x_total counter',
      'dives_x_total{vid="10",port="tap:tap0"} 3',
      'dives_x_total{vid="20",port="qemu:h:1#2"} 0',
      '# HELP dives_up Up.',
      '# TYPE dives_up gauge',
      'dives_up 1',
      '# HELP dives_none_total Nothing yet.',
      '# TYPE dives_none_total counter',
      '',
    ].join('\n'),
  );
});

test('label values escape backslash, double quote and line feed; help escapes backslash and line feed', (t) => {
  t.is(escapeLabelValue('unix:/run/my "vms"\\a\nb'), 'unix:/run/my \\"vms\\"\\\\a\\nb');
  t.is(escapeHelp('a "quoted" \\ help\nline'), 'a "quoted" \\\\ help\\nline');
  const text = renderExposition([{ name: 'dives_l', type: 'gauge', help: 'h', labels: ['listener'], samples: [{ labels: ['unix:/run/a "b".sock'], value: 2 }] }]);
  t.true(text.includes('dives_l{listener="unix:/run/a \\"b\\".sock"} 2\n'));
});

test('values are spelled as Prometheus parses them', (t) => {
  t.deepEqual([0, 12, 1.5, 2 ** 53, NaN, Infinity, -Infinity].map(formatValue), ['0', '12', '1.5', '9007199254740992', 'NaN', '+Inf', '-Inf']);
});

test('names and labels are checked as Prometheus wants them', (t) => {
  t.true(validFamily({ name: 'dives_port_drops_total', type: 'counter', help: '', labels: ['vid', 'reason'] }));
  t.false(validFamily({ name: 'dives-port', type: 'counter', help: '', labels: [] }));
  t.false(validFamily({ name: 'dives_x', type: 'counter', help: '', labels: ['__name'] }));
  t.false(validFamily({ name: 'dives_x', type: 'counter', help: '', labels: ['vid', 'vid'] }));
});
