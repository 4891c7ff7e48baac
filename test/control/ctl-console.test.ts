// Tests for src/control/ctl-console.ts, the interactive `dives ctl`: keystrokes
// into a terminal-mode readline over PassThrough streams, against a control
// server in this process with a SampleSwitch. Prompts follow the session's mode,
// Tab completes from the switch, history survives a restart, and the exit codes.

import test, { type ExecutionContext } from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createCommandRegistry } from '../../src/control/commands/create-command-registry.js';
import { startControlServer, type ControlServer } from '../../src/control/control-server.js';
import { CtlClient, CtlExit } from '../../src/control/ctl-client.js';
import { runCtlConsole } from '../../src/control/ctl-console.js';
import { createLogger } from '../../src/core/log.js';
import { SampleSwitch } from '../../src/docs/sample-switch.js';
import { tempDir } from '../helpers/ctl-process.js';
import { until } from '../helpers/until.js';

async function serve(t: ExecutionContext): Promise<ControlServer> {
  const server = await startControlServer({ dir: tempDir(t), registry: createCommandRegistry(), sw: new SampleSwitch(), log: createLogger('silent') });
  t.teardown(() => server.close());
  server.ready();
  return server;
}

/** A console on a fake terminal: type() sends keystrokes, screen() is everything printed, with escape codes removed. */
async function terminal(t: ExecutionContext, server: ControlServer, historyFile: string | null, tty = true) {
  const input = new PassThrough();
  const output = new PassThrough();
  let raw = '';
  output.setEncoding('utf8');
  output.on('data', (d: string) => (raw += d));
  const client = await CtlClient.connect(server.path);
  t.teardown(() => client.destroy());
  const done = runCtlConsole(client, { input, output, terminal: tty, historyFile });
  // eslint-disable-next-line no-control-regex
  const screen = (): string => raw.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
  const waitFor = (re: RegExp): Promise<void> => until(() => re.test(screen()), 5000, `${re} on the screen`, { everyMs: 10, detail: screen });
  return { input, type: (keys: string) => input.write(keys), screen, waitFor, done };
}

test('the prompt follows the session: dives> at switch level, dives(vlan 10)> in VLAN mode', async (t) => {
  const server = await serve(t);
  const term = await terminal(t, server, null);
  await term.waitFor(/Connected to the DiVES switch on .*dives\.ctl[^]*dives> $/);
  term.type('vlan 10\r');
  await term.waitFor(/dives\(vlan 10\)> $/);
  term.type('exit\r');
  await term.waitFor(/exit\s+dives> $/);
  term.type('quit\r');
  t.is(await term.done, CtlExit.OK);
});

test('Tab completes command words, with the words the switch offers for the current level', async (t) => {
  const server = await serve(t);
  const term = await terminal(t, server, null);
  await term.waitFor(/dives> $/);
  term.type('sh\t');
  await term.waitFor(/dives> show $/);
  term.type('vl\t');
  await term.waitFor(/dives> show vlans $/);
  term.type('\r');
  await term.waitFor(/VID\s+STATE\s+PORTS\s+MACS[^]*\(no VLANs\)/);
  term.type('vlan 10\r');
  await term.waitFor(/dives\(vlan 10\)> $/);
  term.type('show m\t');
  await term.waitFor(/dives\(vlan 10\)> show macs $/);
  term.type('\r');
  await term.waitFor(/show macs\s+MAC\s+PORT\s+AGE\s+\(no MACs learned\)/);
  term.type('quit\r');
  t.is(await term.done, CtlExit.OK);
});

test('errors are printed as "error CODE: message" and the console goes on', async (t) => {
  const server = await serve(t);
  const term = await terminal(t, server, null);
  await term.waitFor(/dives> $/);
  term.type('frobnicate\r');
  await term.waitFor(/error EBADCMD: unknown command "frobnicate"; try "help"\s+dives> $/);
  term.type('quit\r');
  t.is(await term.done, CtlExit.OK, 'an interactive session that had errors still exits 0');
});

test('history is saved on exit and offered again by the up arrow next time', async (t) => {
  const server = await serve(t);
  const file = join(tempDir(t), 'hist');
  const first = await terminal(t, server, file);
  await first.waitFor(/dives> $/);
  first.type('show vlans\r');
  await first.waitFor(/\(no VLANs\)/);
  first.type('quit\r');
  await first.done;
  t.deepEqual(readFileSync(file, 'utf8').split('\n'), ['show vlans', 'quit', '']);

  const second = await terminal(t, server, file);
  await second.waitFor(/dives> $/);
  second.type('\x1b[A\x1b[A\r');
  await second.waitFor(/dives> show vlans[^]*\(no VLANs\)/);
  second.type('quit\r');
  t.is(await second.done, CtlExit.OK);
});

test('the console ends with exit code 3 when the switch goes away', async (t) => {
  const server = await serve(t);
  const term = await terminal(t, server, null);
  await term.waitFor(/dives> $/);
  await server.close();
  t.is(await term.done, CtlExit.UNREACHABLE);
  t.regex(term.screen(), /closed the connection/);
});

test('without a terminal there are no prompts, and EOF ends the console', async (t) => {
  const server = await serve(t);
  const term = await terminal(t, server, null, false);
  term.input.end('vlan 10\nshow taps\n');
  t.is(await term.done, CtlExit.OK);
  t.is(term.screen(), 'NAME  VID  PORT  CREATED  STATE\n(no TAPs attached)\n');
});

test('monitor prints events until Enter or Ctrl-C, then the prompt comes back', async (t) => {
  const sw = new SampleSwitch();
  const server = await startControlServer({ dir: tempDir(t), registry: createCommandRegistry(), sw, log: createLogger('silent') });
  t.teardown(() => server.close());
  server.ready();
  const term = await terminal(t, server, null);
  await term.waitFor(/dives> $/);
  term.type('monitor vlan-down\r');
  await term.waitFor(/monitoring vlan-down; [^]*\(Enter or Ctrl-C stops it\)/);
  sw.events.emit({ kind: 'vlan-down', vid: 10, reason: 'drill' });
  await term.waitFor(/Z vlan-down VLAN 10 is down: drill; /);
  term.type('\r');
  await term.waitFor(/drill;[^]*dives> $/);
  t.is(sw.events.subscribers, 0, 'Enter stopped it');
  term.type('monitor\r');
  await term.waitFor(/monitoring every event[^]*\(Enter or Ctrl-C stops it\)\n$/);
  term.type('\x03');
  await term.waitFor(/stops it\)\n\n.*dives> $/);
  t.is(sw.events.subscribers, 0, 'Ctrl-C stopped it, not the console');
  term.type('show vlans\r');
  await term.waitFor(/\(no VLANs\)/);
  term.type('quit\r');
  t.is(await term.done, CtlExit.OK);
});
