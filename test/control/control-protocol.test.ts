// Tests for src/control/control-protocol.ts: how replies are framed and read back
// (reply lines can never pass for a status line; a stream's lines go to the stream), and how request lines are cut
// from a byte stream with a bounded buffer. Pure units: no sockets.

import test from 'ava';
import { LineReader, MAX_REQUEST_BYTES, ReplyDecoder, encodeLine, encodeReply } from '../../src/control/control-protocol.js';
import { mulberry32, randInt } from '../helpers/prng.js';

test('a reply is its lines prefixed "| ", then "ok"; an empty line is a bare "|"', (t) => {
  t.is(encodeReply({ ok: true, lines: ['VID  PORTS', '', '10   2'] }), '| VID  PORTS\n|\n| 10   2\nok\n');
  t.is(encodeReply({ ok: true, lines: [] }), 'ok\n');
});

test('a reply that ends the session says "ok bye"; an error is one "error CODE: message" line', (t) => {
  t.is(encodeReply({ ok: true, lines: [], close: true }), 'ok bye\n');
  t.is(encodeReply({ ok: false, code: 'EBADCMD', message: 'unknown command "x"; try "help"' }), 'error EBADCMD: unknown command "x"; try "help"\n');
});

test('text that looks like a status line, or holds a newline, stays reply text', (t) => {
  const lines = ['ok', 'error EBADARG: not really', 'ok bye', 'two\nlines', '| piped'];
  const wire = encodeReply({ ok: true, lines });
  t.deepEqual(
    wire.split('\n').filter((l) => !l.startsWith('|')),
    ['ok', ''],
    'only the status line lacks the prefix',
  );
  const [reply] = new ReplyDecoder().push(wire);
  t.deepEqual(reply, { ok: true, close: false, lines: ['ok', 'error EBADARG: not really', 'ok bye', 'two', 'lines', '| piped'] });
});

test('a newline in an error message cannot split the status line', (t) => {
  t.is(encodeReply({ ok: false, code: 'EINTERNAL', message: 'internal error: a\nok' }), 'error EINTERNAL: internal error: a ok\n');
});

test('the decoder reads replies split at any byte, in order', (t) => {
  const wire =
    encodeReply({ ok: true, lines: ['a', 'b'] }) +
    encodeReply({ ok: false, code: 'EBADARG', message: 'bad: really' }) +
    encodeReply({ ok: true, lines: [], close: true });
  const rand = mulberry32(7);
  for (let round = 0; round < 50; round++) {
    const d = new ReplyDecoder();
    const got = [];
    for (let i = 0; i < wire.length; ) {
      const n = randInt(rand, 1, 5);
      got.push(...d.push(wire.slice(i, i + n)));
      i += n;
    }
    t.deepEqual(got, [
      { ok: true, close: false, lines: ['a', 'b'] },
      { ok: false, code: 'EBADARG', message: 'bad: really', lines: [] },
      { ok: true, close: true, lines: [] },
    ]);
  }
});

test('a streaming reply says "ok stream"; its lines after it go to the stream, in pieces or not, until the status that ends it', (t) => {
  const stream = { open: () => ({ resume: () => {}, close: () => {} }) };
  const start = encodeReply({ ok: true, lines: ['monitoring'], stream });
  t.is(start, '| monitoring\nok stream\n');
  const wire = `${start}${encodeLine('event one')}${encodeLine('two\nlines')}ok\n${encodeReply({ ok: true, lines: ['after'] })}`;
  const rand = mulberry32(11);
  for (let round = 0; round < 20; round++) {
    const streamed: string[] = [];
    const d = new ReplyDecoder((l) => streamed.push(l));
    const got = [];
    for (let i = 0; i < wire.length; ) {
      const n = randInt(rand, 1, 7);
      got.push(...d.push(wire.slice(i, i + n)));
      i += n;
    }
    t.deepEqual(got, [
      { ok: true, close: false, stream: true, lines: ['monitoring'] },
      { ok: true, close: false, lines: [] },
      { ok: true, close: false, lines: ['after'] },
    ]);
    t.deepEqual(streamed, ['event one', 'two', 'lines']);
  }
});

test('the decoder refuses a line that is neither reply text nor a status line', (t) => {
  t.throws(() => new ReplyDecoder().push('SSH-2.0-OpenSSH_9.2\n'), { message: /not a DiVES control reply/ });
});

test('request lines are cut at LF, lose a trailing CR, and may arrive in pieces', (t) => {
  const r = new LineReader();
  t.deepEqual(r.push(Buffer.from('show vl')), []);
  t.deepEqual(r.push(Buffer.from('ans\r\nvlan 10\n\nshow')), [{ line: 'show vlans' }, { line: 'vlan 10' }, { line: '' }]);
  t.deepEqual(r.end(), [{ line: 'show' }], 'an unfinished last line still counts at EOF');
});

test('UTF-8 split across chunks is decoded whole', (t) => {
  const bytes = Buffer.from('listen unix /run/vé.sock\n');
  const r = new LineReader();
  const cut = bytes.indexOf(0xc3) + 1;
  t.deepEqual([...r.push(bytes.subarray(0, cut)), ...r.push(bytes.subarray(cut))], [{ line: 'listen unix /run/vé.sock' }]);
});

test('a line at the limit is read; one byte more is refused', (t) => {
  const r = new LineReader();
  t.deepEqual(r.push(Buffer.from(`${'a'.repeat(MAX_REQUEST_BYTES)}\n`)), [{ line: 'a'.repeat(MAX_REQUEST_BYTES) }]);
  t.deepEqual(r.push(Buffer.from(`${'a'.repeat(MAX_REQUEST_BYTES + 1)}\nnext\n`)), [{ tooLong: true }, { line: 'next' }]);
});

test('a 1 MiB line without a newline is refused once, as soon as it passes the limit, and never buffered', (t) => {
  const r = new LineReader();
  const chunk = Buffer.alloc(64 * 1024, 0x41);
  const out = [];
  let most = 0;
  for (let i = 0; i < 16; i++) {
    out.push(...r.push(chunk));
    most = Math.max(most, r.buffered);
    if (i === 0) t.deepEqual(out, [{ tooLong: true }], 'answered before the line ends');
  }
  t.deepEqual(out, [{ tooLong: true }], 'refused exactly once');
  t.true(most <= MAX_REQUEST_BYTES, `held ${most} bytes`);
  t.deepEqual(r.push(Buffer.from('AAAA\nshow vlans\n')), [{ line: 'show vlans' }], 'the rest of the long line is dropped, the next line read');
  t.deepEqual(r.end(), []);
});
