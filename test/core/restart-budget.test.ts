// Tests for src/core/restart-budget.ts: how many restarts a dying I/O thread gets.
// Pure unit tests on the test runner's thread.

import test from 'ava';
import { RestartBudget } from '../../src/core/restart-budget.js';

test('a budget gives max restarts within its window, then none until the oldest leaves it', (t) => {
  const b = new RestartBudget(3, 60_000);
  t.true(b.take(0));
  t.true(b.take(1000));
  t.true(b.take(2000));
  t.false(b.take(3000), 'a fourth within the minute');
  t.is(b.taken, 3);
  t.is(b.exhausted, 'died 4 times within 60 s');
  t.false(b.take(59_999), 'the first is still inside the window');
  t.true(b.take(60_000), 'the first has left the window');
  t.is(b.taken, 4);
});
