// Tests for src/control/stdio-console.ts over PassThrough streams (not a TTY):
// commands in, replies out on the output stream only, no prompts, errors as
// `error CODE: message`, exit answered with a hint, EOF resolving `done`.

import test from 'ava';
import { PassThrough } from 'node:stream';
import { createCommandRegistry } from '../../src/control/commands/create-command-registry.js';
import { ConsoleSession } from '../../src/control/console-session.js';
import { EXIT_HINT, startStdioConsole } from '../../src/control/stdio-console.js';
import { SampleSwitch } from '../../src/docs/sample-switch.js';
import { until } from '../helpers/until.js';

function harness(inputIsTTY = false) {
  const sw = new SampleSwitch();
  const session = new ConsoleSession(createCommandRegistry(), sw);
  const input = Object.assign(new PassThrough(), { isTTY: inputIsTTY });
  const output = new PassThrough();
  let text = '';
  output.setEncoding('utf8');
  output.on('data', (chunk: string) => {
    text += chunk;
  });
  const logged: string[] = [];
  const stdio = startStdioConsole(session, { input, output, log: (m) => logged.push(m) });
  return { sw, session, input, output, stdio, logged, text: () => text };
}

test('piped commands get their replies on the output, in order, without prompts', async (t) => {
  const h = harness();
  h.input.end('vlan 10\ntap tap3\nshow taps\njson show taps\n');
  await h.stdio.done;
  t.is(
    h.text(),
    [
      'tap tap3 attached to VLAN 10 as port 1 (created)',
      'NAME  VID  PORT  CREATED  STATE',
      'tap3  10   1     yes      up',
      '{"vid":10,"taps":[{"name":"tap3","vid":10,"portId":1,"created":true,"state":"up","reason":null}]}',
      '',
    ].join('\n'),
  );
  t.false(h.text().includes('dives'));
});

test('errors print as one "error CODE: message" line and the console keeps reading', async (t) => {
  const h = harness();
  h.input.end('shw macs\nshow macs\nvlan 4095\nshow vlans\n');
  await h.stdio.done;
  t.deepEqual(h.text().split('\n'), [
    'error EBADCMD: unknown command "shw macs"; try "help"',
    'error EBADCMD: "show macs" needs VLAN mode; enter it with "vlan ID"',
    'error EBADARG: VLAN ID must be a number 1..4094, got "4095"',
    'VID  STATE  PORTS  MACS  WORKER  FORWARDED  FLOODED  DROPPED',
    '(no VLANs)',
    '',
  ]);
});

test('exit at switch level does not close the console; it prints how to stop the switch', async (t) => {
  const h = harness();
  h.input.write('exit\n');
  h.input.end('quit\nshow vlans\n');
  await h.stdio.done;
  t.deepEqual(h.text().split('\n'), [EXIT_HINT, EXIT_HINT, 'VID  STATE  PORTS  MACS  WORKER  FORWARDED  FLOODED  DROPPED', '(no VLANs)', '']);
  t.regex(EXIT_HINT, /Ctrl-C\/SIGTERM/);
});

test('EOF on input resolves done, logs that the switch keeps running and writes nothing more', async (t) => {
  const h = harness();
  h.input.end();
  await h.stdio.done;
  t.is(h.text(), '');
  t.deepEqual(h.logged, ['console: input closed; the switch keeps running']);
});

test('close() stops reading, resolves done and leaves later input unread', async (t) => {
  const h = harness();
  h.input.write('vlan 10\ntap tap0\n');
  await until(() => h.text().includes('\n'), 5000, 'the first reply', { everyMs: 0, detail: h.text });
  h.stdio.close();
  h.stdio.close();
  await h.stdio.done;
  h.input.write('tap tap1\n');
  await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(
    h.sw.changes.map((c) => c.args),
    [[10], [10, 'tap0']],
  );
  t.is(h.text(), 'tap tap0 attached to VLAN 10 as port 1\n');
  t.deepEqual(h.logged, [], 'closing on purpose is not logged as EOF');
});

test('a line split across chunks is read as one command', async (t) => {
  const h = harness();
  h.input.write('vlan 1');
  h.input.write('0 show ma');
  h.input.end('cs\r\n');
  await h.stdio.done;
  t.deepEqual(h.text().split('\n'), ['MAC  PORT  AGE', '(no MACs learned)', '']);
});

test('with a TTY on input the console prompts, and the prompt follows the mode', async (t) => {
  // Only input claims to be a TTY, so readline stays out of raw mode but the console still prompts.
  const h = harness(true);
  const untilEndsWith = (tail: string): Promise<void> => until(() => h.text().endsWith(tail), 5000, JSON.stringify(tail), { everyMs: 0, detail: h.text });
  await untilEndsWith('dives> ');
  h.input.write('vlan 10\n');
  await untilEndsWith('dives(vlan 10)> ');
  h.input.write('show taps\n');
  await untilEndsWith('(no TAPs attached)\ndives(vlan 10)> ');
  h.input.write('exit\n');
  await untilEndsWith('dives(vlan 10)> dives> ');
  h.input.end();
  await h.stdio.done;
  t.is(h.text(), 'dives> dives(vlan 10)> NAME  VID  PORT  CREATED  STATE\n(no TAPs attached)\ndives(vlan 10)> dives> ');
});
