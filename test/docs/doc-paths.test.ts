// Every file the docs name exists: a page that says "`src/peer/peer-io.ts`" must not
// outlive a move or a rename. Reads README.md and docs/*.md; pure.

import test from 'ava';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

test('every source, test, bench, workers, docs and .ci path the docs name exists', (t) => {
  const pages = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const missing: string[] = [];
  let seen = 0;
  for (const page of pages) {
    const text = readFileSync(join(ROOT, page), 'utf8');
    for (const m of text.matchAll(/`((?:src|test|bench|workers|docs|bin|\.ci)\/[A-Za-z0-9_./-]+\.(?:ts|js|md|sh|service))`/g)) {
      seen++;
      if (!existsSync(join(ROOT, m[1]))) missing.push(`${page}: ${m[1]}`);
    }
  }
  t.true(seen > 50, `found ${seen} paths`);
  t.deepEqual(missing, []);
});
