// Every file the docs name exists: a page that says "`src/peer/peer-io.ts`" must not
// outlive a move or a rename, and neither may a file's opening comment that says
// "(src/peer/peer-io.ts)". Reads README.md, docs/*.md and every .ts file's header; pure.

import test from 'ava';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
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

/** Every .ts file under `dir` (relative to ROOT), recursively. */
function tsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const rel = `${dir}/${name}`;
    if (statSync(join(ROOT, rel)).isDirectory()) return tsFiles(rel);
    return rel.endsWith('.ts') ? [rel] : [];
  });
}

/** The opening comment block of a source: its leading `//` lines. */
function header(text: string): string {
  const lines = text.split('\n');
  const end = lines.findIndex((l) => !l.startsWith('//'));
  return lines.slice(0, end < 0 ? lines.length : end).join('\n');
}

/** The repository paths a header names, with or without backticks: src/..., test/..., bench/..., workers/..., docs/..., .ci/... */
function pathsIn(text: string): string[] {
  return [...text.matchAll(/(?<![\w./-])((?:src|test|bench|workers|docs|bin|\.ci)\/[A-Za-z0-9_./-]+\.(?:ts|js|md|sh|service|c))/g)].map((m) => m[1]);
}

test('every path a source file\'s opening comment names exists', (t) => {
  const missing: string[] = [];
  let seen = 0;
  for (const file of ['src', 'test', 'bench', 'workers'].flatMap(tsFiles)) {
    for (const path of pathsIn(header(readFileSync(join(ROOT, file), 'utf8')))) {
      seen++;
      if (!existsSync(join(ROOT, path))) missing.push(`${file}: ${path}`);
    }
  }
  t.true(seen > 100, `found ${seen} paths`);
  t.deepEqual(missing, []);
});

test('the header check sees a path in parentheses or backticks and finds one that does not exist', (t) => {
  const text = '// A thing (src/peer/peer-io.ts) beside `test/no/such-file.ts`, and src/core/ring.ts.\n// Another line naming bench/gone.ts.\n\n// After the header: src/not/read.ts\n';
  const paths = pathsIn(header(text));
  t.deepEqual(paths, ['src/peer/peer-io.ts', 'test/no/such-file.ts', 'src/core/ring.ts', 'bench/gone.ts']);
  t.deepEqual(paths.filter((p) => !existsSync(join(ROOT, p))), ['test/no/such-file.ts', 'bench/gone.ts']);
});
