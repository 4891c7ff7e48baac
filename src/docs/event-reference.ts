// The table of event kinds in docs/console.md, made from src/core/event-kinds.ts: each
// kind, when it happens, the level its log line has, and its fields; then every kind's
// example as `monitor` prints it, in text and in JSON. `npm run docs` writes it; a test
// fails when the committed page differs. Pure; main thread.

import { EVENT_KINDS, EVENT_KIND_NAMES, eventLine, type DivesEvent } from '../core/event-kinds.js';

/** The time every example is stamped with. */
const EXAMPLE_TIME = Date.UTC(2026, 11, 1, 12, 0, 0);

function example(kind: (typeof EVENT_KIND_NAMES)[number]): DivesEvent & { time: number } {
  return { kind, ...EVENT_KINDS[kind].example, time: EXAMPLE_TIME } as DivesEvent & { time: number };
}

export function renderEventReference(): string[] {
  const rows = EVENT_KIND_NAMES.map((k) => {
    const d = EVENT_KINDS[k];
    const level = d.level === 'none' ? '-' : `${d.level}${d.outsider ? ', rate-limited' : ''}`;
    const fields = Object.keys(d.example).map((f) => `\`${f}\``).join(', ');
    return `| \`${k}\` | ${d.help.replace(/\|/g, '\\|')} | ${level} | ${fields} |`;
  });
  return [
    '| kind | when | log | fields |',
    '|---|---|---|---|',
    ...rows,
    '',
    'Each kind\'s example, as `dives ctl monitor` prints it, then as `dives ctl monitor --json` does:',
    '',
    '```',
    ...EVENT_KIND_NAMES.map((k) => eventLine(example(k), false)),
    '```',
    '',
    '```',
    ...EVENT_KIND_NAMES.map((k) => eventLine(example(k), true)),
    '```',
  ];
}
