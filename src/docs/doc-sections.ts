// Generated sections inside hand-written docs pages: the lines between
// `<!-- generated: NAME, by npm run docs; edit the code, not this -->` and
// `<!-- end generated: NAME -->` belong to the generator. Pure; main thread.

import { DivesError } from '../core/errors.js';

export function beginMarker(name: string): string {
  return `<!-- generated: ${name}, by npm run docs; edit the code, not this -->`;
}

export function endMarker(name: string): string {
  return `<!-- end generated: ${name} -->`;
}

/** `page` with the section `name` holding `lines`; throws when the page lacks its markers. */
export function replaceSection(page: string, name: string, lines: readonly string[]): string {
  const begin = beginMarker(name);
  const end = endMarker(name);
  const a = page.indexOf(begin);
  const b = page.indexOf(end);
  if (a < 0 || b < a) throw new DivesError('EINTERNAL', `the page has no generated section "${name}" (markers ${begin} ... ${end})`);
  return `${page.slice(0, a + begin.length)}\n${lines.join('\n')}\n${page.slice(b)}`;
}
