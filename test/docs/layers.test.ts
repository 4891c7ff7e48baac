// The folders of src/ depend downward only, in the order docs/architecture.md's map lists
// them (top first): every relative import of a file in src/ or workers/ names a file of
// its own folder or of a folder below its own, never one beside it or above it. The one
// exception is src/linux/'s use of src/core/errors.ts, the error type every layer throws.
// Reads the sources and the map as text; pure.

import test from 'ava';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The layers, lowest first; folders in one layer may not import each other. */
const LAYERS: readonly (readonly string[])[] = [
  ['src/linux'],
  ['src/core'],
  ['src/forwarding', 'src/crypto'],
  ['src/tap', 'src/qemu', 'src/peer', 'src/vxlan'],
  ['src/capture'],
  ['src/control'],
  ['src/metrics'],
  ['src/switch'],
  ['src/commands'],
  ['src/docs'],
  ['workers'],
];

/** Imports that run up a layer on purpose: the error type every layer throws. */
const ALLOWED_UP = new Set(['src/linux -> src/core/errors.ts']);

function layerOf(folder: string): number {
  return LAYERS.findIndex((l) => l.includes(folder));
}

/** The concept folder a file belongs to: src/<name> (src/control/commands is control's), or workers. */
function folderOf(file: string): string {
  const parts = file.split('/');
  return parts[0] === 'workers' ? 'workers' : `${parts[0]}/${parts[1]}`;
}

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const rel = `${dir}/${name}`;
    if (statSync(join(ROOT, rel)).isDirectory()) return sources(rel);
    return rel.endsWith('.ts') ? [rel] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s+'(\.{1,2}\/[^']+)'/g)) {
    out.push(normalize(join(dirname(file), m[1])).replace(/\.js$/, '.ts'));
  }
  return out;
}

test('every folder of src/ is in a layer, and the layers are the map of docs/architecture.md, top first', (t) => {
  const folders = readdirSync(join(ROOT, 'src')).filter((n) => statSync(join(ROOT, 'src', n)).isDirectory()).map((n) => `src/${n}`);
  t.deepEqual(folders.filter((f) => layerOf(f) < 0), [], 'a folder no layer names');
  const map = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8').split('\n## ')[1] ?? '';
  const listed = [...map.matchAll(/^\| `((?:src\/[a-z]+|workers))\/` \|/gm)].map((m) => m[1]);
  t.deepEqual(listed, [...LAYERS].reverse().flat(), 'the map lists the folders top first');
});

test('the folders of src/ and workers/ import only their own folder and the layers below it', (t) => {
  const files = [...sources('src'), ...sources('workers')];
  t.true(files.length > 150, `read ${files.length} files`);
  const wrong: string[] = [];
  for (const file of files) {
    const from = folderOf(file);
    for (const target of importsOf(file)) {
      const to = folderOf(relative(ROOT, join(ROOT, target)));
      if (to === from) continue;
      if (ALLOWED_UP.has(`${from} -> ${target}`)) continue;
      const a = layerOf(from);
      const b = layerOf(to);
      if (b < 0 || b >= a) wrong.push(`${file} imports ${target} (${to} is ${b === a ? 'beside' : 'above'} ${from})`);
    }
  }
  t.deepEqual(wrong, []);
});
