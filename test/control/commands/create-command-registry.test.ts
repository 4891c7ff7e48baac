// Tests for src/control/commands/create-command-registry.ts: every command the registry
// holds has a working example with a JSON form, and every `show` prints a table (kept
// as a snapshot) against the sample switch. Pure units: no threads, no sockets.

import test from 'ava';
import { COMMANDS } from '../../../src/control/commands/create-command-registry.js';
import { at, fixture } from '../../helpers/command-session.js';
/** Every `show` at the level it runs at; each gets a text and a JSON snapshot. */
const SHOWS: [number | null, string][] = [
  [null, 'show vlans'],
  [null, 'show ports'],
  [null, 'show taps'],
  [null, 'show listeners'],
  [10, 'show macs'],
  [10, 'show ports'],
  [10, 'show taps'],
  [10, 'show listeners'],
  [10, 'show vlans'],
  [30, 'show macs'],
  [30, 'show ports'],
  [30, 'show taps'],
  [30, 'show listeners'],
  [null, 'show threads'],
  [null, 'show rings'],
];

for (const [vid, line] of SHOWS) {
  const where = vid === null ? 'at switch level' : `in VLAN ${vid}`;
  test(`"${line}" ${where} prints a table and has a JSON form`, async (t) => {
    const { session } = fixture();
    const text = await at(session, vid, line);
    const json = await at(session, vid, line, true);
    t.true(text.ok);
    t.true(json.ok);
    if (!text.ok || !json.ok) return;
    // One snapshot holds both forms: the text lines and the JSON object beside them.
    t.snapshot(text);
    t.notDeepEqual(text.json, undefined);
    t.deepEqual(json, { ...text, lines: [JSON.stringify(text.json)] });
  });
}

/** One working example of every command, by "mode syntax", at the level it runs at. */
const EXAMPLES: Record<string, [number | null, string]> = {
  'switch show ports': [null, 'show ports'],
  'switch show taps': [null, 'show taps'],
  'switch show listeners': [null, 'show listeners'],
  'switch show peers': [null, 'show peers'],
  'switch peer HOST PORT': [null, 'peer 10.0.0.9 3333'],
  'switch no peer HOST PORT': [null, 'no peer 10.0.0.3 3333'],
  'switch exit': [null, 'exit'],
  'switch end': [null, 'end'],
  'vlan show macs': [10, 'show macs'],
  'vlan show ports': [10, 'show ports'],
  'vlan show taps': [10, 'show taps'],
  'vlan show listeners': [10, 'show listeners'],
  'vlan tap DEVNAME': [10, 'tap tap1'],
  'vlan no tap DEVNAME': [10, 'no tap tap0'],
  'vlan listen HOSTNAME PORT': [10, 'listen 127.0.0.1 4001'],
  'vlan listen unix PATH': [10, 'listen unix /run/vm.sock'],
  'vlan no listen HOSTNAME PORT': [10, 'no listen 127.0.0.1 4000'],
  'vlan no listen unix PATH': [20, 'no listen unix /run/dives/vm.sock'],
  'vlan exit': [10, 'exit'],
  'vlan end': [10, 'end'],
  'any vlan ID [COMMAND...]': [null, 'vlan 10'],
  'any show vlans': [null, 'show vlans'],
  'any show threads': [null, 'show threads'],
  'any show rings': [null, 'show rings'],
  'any show running-config': [null, 'show running-config'],
  'any write FILE': [null, 'write /nonexistent-dir/dives.rc'],
  'any complete LINE': [null, 'complete "show "'],
  'any prompt': [10, 'prompt'],
  'any debug crash-on-frame ID MAC': [null, 'debug crash-on-frame 10 02:00:00:00:00:01'],
  'any help [WORD...]': [10, 'help'],
  'any quit': [10, 'quit'],
  'any debug crash-worker ID': [null, 'debug crash-worker 20'],
  'any debug crash-tap DEVNAME': [null, 'debug crash-tap tap0'],
  'any debug crash-peers': [null, 'debug crash-peers'],
  'any debug crash-qemu': [null, 'debug crash-qemu'],
};

test('every command has a working example with a JSON form', async (t) => {
  t.deepEqual(
    COMMANDS.map((c) => `${c.mode} ${c.syntax}`).sort(),
    Object.keys(EXAMPLES).sort(),
    'a command was added or renamed without an example here',
  );
  for (const [key, [vid, line]] of Object.entries(EXAMPLES)) {
    const text = await at(fixture().session, vid, line);
    const json = await at(fixture().session, vid, line, true);
    // `write` to a missing directory fails the same way in both forms; every other example works.
    if (key === 'any write FILE') {
      t.like(text, { ok: false, code: 'EWRITE' }, key);
      t.like(json, { ok: false, code: 'EWRITE' }, key);
      continue;
    }
    t.true(text.ok && text.json !== undefined, key);
    if (text.ok) t.deepEqual(json, { ...text, lines: [JSON.stringify(text.json)] }, key);
  }
});

