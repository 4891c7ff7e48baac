// Tests for src/core/counters.ts: a counter set's indexes follow its names, its
// records hold every name; and, walking every set against a real switch (QEMU ports,
// a peer over loopback, discovery on a group of its own), every counter name reaches
// the output of the `show` command its set names, as text and as JSON.

import test from 'ava';
import { COUNTER_SETS, CounterSet, PORT_DROP, PORT_DROPS } from '../../src/core/counters.js';
import { createCommandRegistry } from '../../src/control/commands/create-command-registry.js';
import { ConsoleSession } from '../../src/control/console-session.js';
import { freeUdpPort, peerSwitch, peersUp, vm } from '../helpers/peer-switches.js';

test('a set indexes its names in order and turns counts into a record with every name', (t) => {
  const set = new CounterSet('thing', 'show things', {
    first: { by: 'a thread', help: 'one' },
    'second-one': { by: 'a thread', help: 'two' },
  });
  t.deepEqual(set.names, ['first', 'second-one']);
  t.deepEqual({ ...set.index }, { first: 0, 'second-one': 1 });
  const counts = set.create();
  counts[set.index['second-one']] += 3;
  t.deepEqual(set.toRecord(counts), { first: 0, 'second-one': 3 });
  t.deepEqual(set.zero(), { first: 0, 'second-one': 0 });
  t.is(PORT_DROPS.names[PORT_DROP['ring-full']], 'ring-full');
});

test('every counter is named once in its set, with what it means and who counts it', (t) => {
  for (const set of COUNTER_SETS) {
    t.is(new Set(set.names).size, set.names.length, set.per);
    for (const name of set.names) {
      t.regex(name, /^[a-z][a-z-]*$/, `${set.per}: ${name}`);
      t.true(set.defs[name].help.length > 10 && set.defs[name].by.length > 0, `${set.per}: ${name}`);
    }
  }
});

test('every counter name reaches the show command its set names, in text and in JSON', async (t) => {
  t.timeout(60_000);
  const group = `239.201.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
  const a = await peerSwitch(t, { discovery: true, group, discoveryPort: await freeUdpPort() });
  const b = await peerSwitch(t);
  await a.sw.addStaticPeer('127.0.0.1', b.port);
  await b.sw.addStaticPeer('127.0.0.1', a.port);
  await vm(t, a.sw, 10);
  await vm(t, b.sw, 10);
  await peersUp(a.sw, [`127.0.0.1:${b.port}`]);
  const session = new ConsoleSession(createCommandRegistry(), a.sw);
  const outputs = new Map<string, string>();
  for (const command of new Set(COUNTER_SETS.map((s) => s.shownBy))) {
    const text = await session.execute(command);
    const json = await session.execute(`json ${command}`);
    t.true(text.ok && json.ok, command);
    if (text.ok && json.ok) outputs.set(command, `${text.lines.join('\n')}\n${json.lines.join('\n')}`);
  }
  for (const set of COUNTER_SETS) {
    const out = outputs.get(set.shownBy) ?? '';
    for (const name of set.names) t.true(out.includes(`"${name}":`), `${set.per} counter "${name}" in "${set.shownBy}"`);
  }
});
