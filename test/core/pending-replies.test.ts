// Unit tests of PendingReplies, the request/reply bookkeeping main uses with
// every other thread: replies by id, deadlines, and failing or settling all.

import test from 'ava';
import { PendingReplies } from '../../src/core/pending-replies.js';

test('a reply settles the request with its id, and a late or unknown reply is ignored', async (t) => {
  const p = new PendingReplies<string>();
  const sent: number[] = [];
  const a = p.request('thread A', 1000, (id) => sent.push(id));
  const b = p.request('thread B', 1000, (id) => sent.push(id));
  t.is(new Set(sent).size, 2);
  p.settle(sent[1], 'second');
  p.settle(sent[0], 'first');
  p.settle(sent[0], 'again');
  p.settle(999, 'nobody');
  t.deepEqual(await Promise.all([a, b]), ['first', 'second']);
});

test('a request nobody answers fails with ETIMEOUT naming who did not answer', async (t) => {
  const p = new PendingReplies<number>();
  await t.throwsAsync(p.request('the peer I/O thread', 50, () => {}), { message: 'the peer I/O thread did not answer within 0.05 s' });
});

test('failAll rejects and settleAll resolves whatever is still waiting', async (t) => {
  const p = new PendingReplies<number>();
  const a = p.request('x', 1000, () => {});
  p.failAll(new Error('stopping'));
  await t.throwsAsync(a, { message: 'stopping' });
  const b = p.request('x', 1000, () => {});
  p.settleAll(7);
  t.is(await b, 7);
});
