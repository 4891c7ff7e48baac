// Tests for src/control/commands/create-command-registry.ts: every command the registry
// holds has a working example with a JSON form, and every `show` prints a table (kept
// as a snapshot) against the sample switch. Pure units: no threads, no sockets.

import test from 'ava';
import { rmSync } from 'node:fs';
import { COMMANDS, createCommandRegistry } from '../../../src/control/commands/create-command-registry.js';
import { exampleVid } from '../../../src/docs/command-reference.js';
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

test('every command has a working example with a JSON form', async (t) => {
  for (const spec of COMMANDS) {
    const vid = exampleVid(spec);
    const key = `${spec.mode} ${spec.syntax}: ${spec.example}`;
    t.deepEqual(createCommandRegistry().resolve(spec.example.match(/"[^"]*"|\S+/g) ?? [], vid === null ? 'switch' : 'vlan').spec, spec, `${key} runs this command`);
    // A streaming command's stream (`monitor`) is made afresh by each run: compared by being there.
    const { stream: textStream, ...text } = { stream: undefined, ...(await at(fixture().session, vid, spec.example)) };
    const { stream: jsonStream, ...json } = { stream: undefined, ...(await at(fixture().session, vid, spec.example, true)) };
    t.true(text.ok && text.json !== undefined, key);
    t.is(textStream === undefined, jsonStream === undefined, key);
    if (text.ok) t.deepEqual(json, { ...text, lines: [JSON.stringify(text.json)] }, key);
  }
  rmSync('/tmp/dives-example.rc', { force: true });
});

