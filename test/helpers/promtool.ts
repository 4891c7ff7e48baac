// Prometheus's own checker for tests of /metrics: `promtool check metrics` reads a scrape on
// stdin and fails on anything Prometheus would not take (and lints names and help). Tests
// that need it register with promTest: in CI (CI=true) a missing promtool fails the test
// with how to get it, elsewhere the test is skipped with the reason in its title, as
// test/helpers/privileged.ts does for privileges. Test code, ava's main thread.

import test, { type ImplementationFn } from 'ava';
import { spawnSync } from 'node:child_process';

function findPromtool(): string | null {
  const r = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? null : 'needs promtool (Debian: apt-get install prometheus, or npm run setup)';
}

/** Why promtool tests cannot run here, or null when they can. */
export const promtoolMissing: string | null = findPromtool();

/** `promtool check metrics` on `text`: its exit code and what it said (problems are on stderr). */
export function promtoolCheck(text: string): { code: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

export function promTest(title: string, fn: ImplementationFn<[]>): void {
  if (promtoolMissing === null) test(title, fn);
  else if (process.env.CI === 'true') test(title, (t) => void t.fail(`cannot run in CI: ${promtoolMissing}`));
  else test.skip(`${title} [skipped: ${promtoolMissing}]`, fn);
}
