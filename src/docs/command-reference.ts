// The command reference of docs/console.md, made from the command registry: a table of
// every command (syntax, level, what it does) and, for each, the replies its example
// line gets from the sample switch, as text and as JSON. `npm run docs` writes it; a
// test fails when the committed page differs. Main thread; no I/O but the examples'.

import type { CommandRegistry, CommandSpec } from '../control/command-registry.js';
import { ConsoleSession } from '../control/console-session.js';
import { sampleSwitch } from './sample-data.js';

const LEVELS: Record<CommandSpec['mode'], string> = { switch: 'switch', vlan: 'VLAN', any: 'either' };

/** The VLAN a command's example runs in, or null for switch level. */
export function exampleVid(spec: CommandSpec): number | null {
  return spec.exampleVid ?? (spec.mode === 'vlan' ? 10 : null);
}

/** A markdown table cell: pipes escaped, code as code. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** The table of commands, visible ones first, then the hidden ones `help WORD` lists. */
export function renderCommandTable(registry: CommandRegistry): string[] {
  const all = registry.list();
  const rows = [...all.filter((c) => !c.hidden), ...all.filter((c) => c.hidden)].map(
    (c) => `| \`${cell(c.syntax)}\` | ${LEVELS[c.mode]}${c.hidden ? ', hidden' : ''} | ${cell(c.help)} |`,
  );
  return ['| syntax | level | what it does |', '|---|---|---|', ...rows];
}

/** Each command's example run on a fresh sample switch: the line at its prompt, the text reply, then `json` and its reply. */
export async function renderCommandReplies(registry: CommandRegistry): Promise<string[]> {
  const out: string[] = [];
  for (const spec of registry.list()) {
    const vid = exampleVid(spec);
    const prompt = vid === null ? 'dives> ' : `dives(vlan ${vid})> `;
    const transcript: string[] = [];
    for (const json of [false, true]) {
      // As the control socket runs it: a streaming command's example shows its reply, whose stream follows.
      const session = new ConsoleSession(registry, sampleSwitch(), { streams: true });
      session.mode = vid === null ? null : { vid };
      const reply = await session.execute(spec.example, { json });
      transcript.push(`${prompt}${json ? 'json ' : ''}${spec.example}`);
      transcript.push(...(reply.ok ? reply.lines : [`error ${reply.code}: ${reply.message}`]));
    }
    out.push(`#### \`${spec.syntax}\` (${LEVELS[spec.mode]})`, '', '```', ...transcript, '```', '');
  }
  return out;
}

/** Lines that fail, each at its level, to show the error line; the first refusals a person meets. */
const ERROR_EXAMPLES: readonly [number | null, string][] = [
  [null, 'shw macs'],
  [null, 'show mac'],
  [null, 'show'],
  [null, 'show macs'],
  [10, 'show peers'],
  [null, 'vlan 10 exit'],
  [null, 'vlan abc'],
  [10, 'listen 127.0.0.1'],
  [10, 'show macs now'],
  [10, 'tap tap/0'],
  [10, 'no tap tap9'],
  [20, 'no listen 127.0.0.1 4000'],
  [null, 'no peer 10.0.0.9 3333'],
  [null, 'json'],
];

/** Each failing line at its prompt and the one error line it gets from the sample switch. */
export async function renderErrorExamples(registry: CommandRegistry): Promise<string[]> {
  const out = ['```'];
  for (const [vid, line] of ERROR_EXAMPLES) {
    const session = new ConsoleSession(registry, sampleSwitch());
    session.mode = vid === null ? null : { vid };
    const reply = await session.execute(line);
    out.push(`${vid === null ? 'dives> ' : `dives(vlan ${vid})> `}${line}`, reply.ok ? '(no error)' : `error ${reply.code}: ${reply.message}`);
  }
  return [...out, '```'];
}
