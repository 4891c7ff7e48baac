// Text formatting for command replies: aligned columns, ages and drop counters,
// so every `show` command prints the same way on the console, the control
// socket and `dives ctl`. Pure functions; runs on the main thread.

/** Gap between columns. Two spaces keep columns apart even when a cell is full width. */
const GAP = '  ';

/**
 * Lay out rows in left-aligned columns, each as wide as its widest cell.
 * Trailing spaces are trimmed so the last column never pads the line.
 */
export function formatColumns(rows: readonly (readonly string[])[], indent = ''): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((row) => (indent + row.map((cell, i) => cell.padEnd(widths[i])).join(GAP)).trimEnd());
}

/**
 * A table: a header row of column names, then one line per row. An empty table
 * prints the header and `empty` (e.g. "(no MACs learned)") so a reader can tell
 * "nothing there" from "the command printed nothing".
 */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[], empty: string): string[] {
  if (rows.length === 0) return [...formatColumns([headers]), empty];
  return formatColumns([headers, ...rows]);
}

/**
 * A table whose rows may each carry indented lines under them: what did not fit in
 * the columns (a port's drop counters, why a thread is down). An empty table prints
 * its header and `empty`, as formatTable does.
 */
export function formatNotedTable(headers: readonly string[], rows: readonly (readonly string[])[], notes: readonly (readonly string[])[], empty: string): string[] {
  if (rows.length === 0) return formatTable(headers, rows, empty);
  const [head, ...body] = formatColumns([headers, ...rows]);
  return [head, ...body.flatMap((line, i) => [line, ...(notes[i] ?? []).map((n) => `    ${n}`)])];
}

/** An age in seconds as a person reads it: "3s", "4m05s", "2h07m", "3d04h". */
export function formatAge(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${pad2(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${pad2(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86400)}d${pad2(Math.floor(s / 3600) % 24)}h`;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** The non-zero counters of a record as "label: a=3 b=1", or "label: none"; those named in `skip` (shown elsewhere) are left out. */
export function formatCounters(label: string, counters: Readonly<Record<string, number>>, skip: readonly string[] = []): string {
  const parts = Object.entries(counters)
    .filter(([name, n]) => n !== 0 && !skip.includes(name))
    .map(([name, n]) => `${name}=${n}`);
  return `${label}: ${parts.length === 0 ? 'none' : parts.join(' ')}`;
}

/** A size in bytes as a person reads it: "512 B", "64 KiB", "4 MiB", "1.5 GiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let n = bytes;
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return `${Number.isInteger(n) ? n : n.toFixed(1)} ${units[u]}`;
}

/** Quote a command line or word for an error message, so a user sees exactly what was read. */
export function quote(text: string): string {
  return JSON.stringify(text);
}

/**
 * Write one word so that the console's tokenizer reads it back unchanged: as is
 * when it is plain, otherwise in double quotes with `\` and `"` escaped. Used to
 * print rc lines (`show running-config`) and to join `dives ctl` arguments.
 */
export function quoteWord(word: string): string {
  if (/^[^\s"#][^\s"]*$/.test(word)) return word;
  return `"${word.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** Plain code-unit order: the same on every machine, whatever its locale (the running-config sorts by it). */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
