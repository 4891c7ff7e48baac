// The option table of `dives start` in docs/operations.md, made from the oclif command's
// own flags (src/commands/start.ts): each flag, its default and what it does, as
// `dives start --help` prints them. `npm run docs` writes it; a test fails when the
// committed page differs. Pure; main thread.

import Start from '../commands/start.js';

interface FlagLike {
  char?: string;
  helpValue?: string;
  default?: unknown;
  description?: string;
  options?: readonly string[];
  type: 'option' | 'boolean';
}

export function renderStartOptions(): string[] {
  const rows = Object.entries(Start.flags as Record<string, FlagLike>).map(([name, f]) => {
    const value = f.type === 'option' ? ` ${f.helpValue ?? (f.options ? f.options.join('\\|') : 'VALUE')}` : '';
    const flag = `${f.char === undefined ? '' : `-${f.char}, `}--${name}${value}`;
    const def = f.default === undefined || f.default === false ? '' : `\`${String(f.default)}\``;
    return `| \`${flag}\` | ${def} | ${(f.description ?? '').replace(/\|/g, '\\|')} |`;
  });
  return ['| option | default | what it does |', '|---|---|---|', ...rows];
}
