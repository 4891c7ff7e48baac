// The command reference of docs/console.md, made from the command registry: a table of
// every command (syntax, level, what it does) and, for each, the replies its example
// line gets from the sample switch, as text and as JSON. `npm run docs` writes it; a
// test fails when the committed page differs. Main thread; no I/O but the examples'.

import type { CommandRegistry, CommandSpec } from '../control/command-registry.js';
import { ConsoleSession } from '../control/console-session.js';
import { sampleSwitch } from './sample-switch.js';

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
      const session = new ConsoleSession(registry, sampleSwitch());
      session.mode = vid === null ? null : { vid };
      const reply = await session.execute(spec.example, { json });
      transcript.push(`${prompt}${json ? 'json ' : ''}${spec.example}`);
      transcript.push(...(reply.ok ? reply.lines : [`error ${reply.code}: ${reply.message}`]));
    }
    out.push(`#### \`${spec.syntax}\` (${LEVELS[spec.mode]})`, '', '```', ...transcript, '```', '');
  }
  return out;
}
