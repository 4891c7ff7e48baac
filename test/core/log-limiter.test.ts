// Tests for src/core/log-limiter.ts: a burst of lines per kind per window, the rest
// counted and reported when the window ends — on the next line of the kind, or on the
// next line of any kind — with the clock passed in. Pure units.

import test from 'ava';
import { LogLimiter } from '../../src/core/log-limiter.js';
import type { Logger } from '../../src/core/log.js';

function capture(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (m: string) => lines.push(`${level} ${m}`);
  return { log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

function limiter(opts: { burst?: number; maxKinds?: number } = {}) {
  const { log, lines } = capture();
  const clock = { now: 0 };
  const l = new LogLimiter(log, { burst: opts.burst ?? 3, windowMs: 60_000, maxKinds: opts.maxKinds, now: () => clock.now });
  return { l, lines, clock };
}

test('a kind writes its burst, then counts the rest until its window ends, when the next line says how many', (t) => {
  const { l, lines, clock } = limiter();
  for (let i = 0; i < 10_000; i++) l.warn('malformed', `junk ${i}`);
  t.deepEqual(lines, ['warn junk 0', 'warn junk 1', 'warn junk 2 (further similar lines are suppressed for up to 60 s, and counted)']);
  t.is(l.suppressed('malformed'), 9997);
  clock.now = 59_999;
  l.warn('malformed', 'still inside');
  t.is(lines.length, 3, 'the window has not ended');
  clock.now = 61_000;
  l.warn('malformed', 'after');
  t.is(lines[3], 'warn after (9998 similar lines suppressed in the last 61 s)');
  t.is(l.suppressed('malformed'), 0);
  l.warn('malformed', 'second of the new window');
  t.is(lines[4], 'warn second of the new window');
});

test('kinds have budgets of their own', (t) => {
  const { l, lines } = limiter({ burst: 1 });
  for (let i = 0; i < 100; i++) {
    l.info('peer-up', 'up');
    l.warn('unresolvable', 'cannot resolve');
  }
  t.deepEqual(lines.map((s) => s.split(' (')[0]), ['info up', 'warn cannot resolve']);
});

test('a flood that stopped is reported at the next line of any kind, as its last line with the count', (t) => {
  const { l, lines, clock } = limiter({ burst: 1 });
  for (let i = 0; i < 50; i++) l.warn('malformed', `junk from 10.0.0.${i}`);
  clock.now = 30_000;
  l.info('peer-up', 'peer up');
  t.is(lines.length, 2, 'the malformed window has not ended yet');
  clock.now = 75_000;
  l.info('peer-up', 'another peer up');
  t.deepEqual(lines.slice(2), ['warn junk from 10.0.0.49 (the last of 49 similar lines suppressed in the last 75 s)']);
  t.is(l.suppressed('peer-up'), 1, 'peer-up is in its own window still');
  clock.now = 200_000;
  l.warn('malformed', 'fresh');
  t.deepEqual(lines.slice(3), ['info another peer up (the last of 1 similar lines suppressed in the last 170 s)', 'warn fresh (further similar lines are suppressed for up to 60 s, and counted)']);
});

test('kinds past the most it tracks share one budget, so memory stays bounded', (t) => {
  const { l, lines } = limiter({ burst: 2, maxKinds: 4 });
  for (let i = 0; i < 1000; i++) l.warn(`kind-${i}`, `line ${i}`);
  // Four kinds of their own (one line each), then every other kind in one shared window of two.
  t.deepEqual(lines.map((s) => s.split(' (')[0]), ['warn line 0', 'warn line 1', 'warn line 2', 'warn line 3', 'warn line 4', 'warn line 5']);
  t.is(l.suppressed('(other)'), 994);
});

test('the limiter of a logger is shared, and one attached with options replaces the default', (t) => {
  const { log, lines } = capture();
  t.is(LogLimiter.of(log), LogLimiter.of(log));
  const attached = LogLimiter.attach(log, { burst: 1 });
  t.is(LogLimiter.of(log), attached);
  LogLimiter.of(log).info('k', 'one');
  LogLimiter.of(log).info('k', 'two');
  t.is(lines.length, 1);
});
