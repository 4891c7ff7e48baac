// The docs that cannot drift: the command reference in docs/console.md, the counter
// tables in docs/architecture.md and the `dives start` options in docs/operations.md
// must be exactly what `npm run docs` makes from the code now; a help text changed
// without regenerating makes them differ. Runs the examples against the sample switch.

import test from 'ava';
import { readFileSync } from 'node:fs';
import { CommandRegistry } from '../../src/control/command-registry.js';
import { COMMANDS } from '../../src/control/commands/create-command-registry.js';
import { DOCS_DIR, renderDocs } from '../../src/docs/generate-docs.js';

test('the generated sections of docs/ are what the code makes now (run npm run docs after changing a command, a counter or a flag)', async (t) => {
  const pages = await renderDocs();
  t.deepEqual([...pages.keys()].sort(), ['architecture.md', 'console.md', 'operations.md']);
  for (const [page, text] of pages) t.is(readFileSync(`${DOCS_DIR}${page}`, 'utf8'), text, `docs/${page} differs; run npm run docs`);
});

test('a command whose help text changes without regenerating makes docs/console.md differ', async (t) => {
  const registry = new CommandRegistry();
  for (const spec of COMMANDS) registry.add(spec.syntax === 'show macs' ? { ...spec, help: `${spec.help} (changed)` } : spec);
  const console = (await renderDocs(DOCS_DIR, registry)).get('console.md');
  t.not(console, readFileSync(`${DOCS_DIR}console.md`, 'utf8'));
  t.true(console?.includes('learned in this VLAN, the port each was seen on and its age. (changed) |'));
});
