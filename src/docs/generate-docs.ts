// `npm run docs`: writes the generated sections of docs/ — the command reference from
// the command registry, the counter tables from src/core/counters.ts, the `dives start`
// options from its oclif flags, the event kinds from src/core/event-kinds.ts, the
// metric names from src/metrics/switch-metrics.ts — and `npm run docs -- --check` only says which pages
// differ (exit 1). test/docs/generate-docs.test.ts fails on the same difference, so a
// help text changed without regenerating cannot land. Main thread.

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CommandRegistry } from '../control/command-registry.js';
import { createCommandRegistry } from '../control/commands/create-command-registry.js';
import { renderCommandReplies, renderCommandTable, renderErrorExamples } from './command-reference.js';
import { renderCounterReference } from './counter-reference.js';
import { renderEventReference } from './event-reference.js';
import { renderMetricReference } from './metric-reference.js';
import { replaceSection } from './doc-sections.js';
import { renderStartOptions } from './start-options.js';

/** The docs/ folder of this checkout (the compiled file runs from dist/src/docs). */
export const DOCS_DIR = fileURLToPath(new URL('../../../docs/', import.meta.url));

/** Where the `write FILE` example writes; removed once the examples have run. */
const WRITE_EXAMPLE = '/tmp/dives-example.rc';

/** Every generated page, by name under docs/: what it should hold for `registry` (the switch's own by default). */
export async function renderDocs(dir = DOCS_DIR, registry: CommandRegistry = createCommandRegistry()): Promise<Map<string, string>> {
  const replies = await renderCommandReplies(registry);
  rmSync(WRITE_EXAMPLE, { force: true });
  const sections: Record<string, [string, string[]][]> = {
    'console.md': [
      ['commands', renderCommandTable(registry)],
      ['replies', replies],
      ['errors', await renderErrorExamples(registry)],
      ['events', renderEventReference()],
    ],
    'architecture.md': [['counters', renderCounterReference()]],
    'operations.md': [
      ['start-options', renderStartOptions()],
      ['metrics', renderMetricReference()],
    ],
  };
  const out = new Map<string, string>();
  for (const [page, parts] of Object.entries(sections)) {
    let text = readFileSync(`${dir}${page}`, 'utf8');
    for (const [name, lines] of parts) text = replaceSection(text, name, lines);
    out.set(page, text);
  }
  return out;
}

async function main(check: boolean): Promise<number> {
  const stale: string[] = [];
  for (const [page, text] of await renderDocs()) {
    if (readFileSync(`${DOCS_DIR}${page}`, 'utf8') === text) continue;
    stale.push(page);
    if (!check) writeFileSync(`${DOCS_DIR}${page}`, text);
  }
  const verb = check ? 'differ from the code; run npm run docs' : 'regenerated';
  console.log(stale.length === 0 ? 'docs: up to date' : `docs: ${stale.map((p) => `docs/${p}`).join(', ')} ${verb}`);
  return check && stale.length > 0 ? 1 : 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = await main(process.argv.includes('--check'));
