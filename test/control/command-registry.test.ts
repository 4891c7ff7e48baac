// Tests for src/control/command-registry.ts: resolving words to a command by level
// and longest path, argument parsing (missing, extra, optional, rest), registration
// clashes and tab completion. Uses a small table of its own; pure units.

import test from 'ava';
import { CommandRegistry, parseArgs, type CommandContext, type CommandSpec } from '../../src/control/command-registry.js';
import { DivesError, isDivesError } from '../../src/core/errors.js';
import { SampleSwitch } from '../../src/docs/sample-switch.js';

function echo(name: string) {
  return (ctx: CommandContext) => ({ lines: [name], json: { vid: ctx.vid, oneShot: ctx.oneShot } });
}

const NUM = {
  name: 'N',
  parse: (w: string) => {
    if (!/^[0-9]+$/.test(w)) throw new DivesError('EBADARG', `N must be a number, got "${w}"`);
    return Number(w);
  },
};

function table(): CommandRegistry {
  return new CommandRegistry()
    .add({ path: ['show', 'a'], syntax: 'show a', example: 'show a', help: 'a at switch level', mode: 'switch', args: [], handler: echo('switch a') })
    .add({ path: ['show', 'a'], syntax: 'show a', example: 'show a', help: 'a in a VLAN', mode: 'vlan', args: [], handler: echo('vlan a') })
    .add({ path: ['show', 'b'], syntax: 'show b', example: 'show b', help: 'b', mode: 'vlan', args: [], handler: echo('b') })
    .add({ path: ['show', 'c'], syntax: 'show c', example: 'show c', help: 'c', mode: 'switch', args: [], handler: echo('c') })
    .add({ path: ['listen'], syntax: 'listen HOST N', example: 'listen HOST N', help: 'tcp', mode: 'any', args: [{ name: 'HOST' }, NUM], handler: echo('tcp') })
    .add({ path: ['listen', 'unix'], syntax: 'listen unix PATH', example: 'listen unix PATH', help: 'unix', mode: 'any', args: [{ name: 'PATH' }], handler: echo('unix') })
    .add({ path: ['opt'], syntax: 'opt [N]', example: 'opt [N]', help: 'optional', mode: 'any', args: [{ ...NUM, optional: true }], handler: echo('opt') })
    .add({ path: ['secret', 'x'], syntax: 'secret x', example: 'secret x', help: 'hidden', mode: 'any', args: [], hidden: true, handler: echo('x') });
}

function spec(registry: CommandRegistry, syntax: string): CommandSpec {
  const found = registry.list().find((c) => c.syntax === syntax);
  if (!found) throw new Error(`no ${syntax}`);
  return found;
}

function codeAndMessage(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (isDivesError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('did not throw');
}

test('the command for the session level is chosen when two share a path', async (t) => {
  const r = table();
  const sw = new SampleSwitch();
  t.deepEqual((await r.run(['show', 'a'], { sw, vid: null })).lines, ['switch a']);
  t.deepEqual((await r.run(['show', 'a'], { sw, vid: 10 })).lines, ['vlan a']);
});

test('the longest matching path wins, so "listen unix" is not a host named unix', (t) => {
  const r = table();
  t.is(r.resolve(['listen', 'unix', '/tmp/s'], 'vlan').spec.syntax, 'listen unix PATH');
  t.deepEqual(r.resolve(['listen', 'unix', '/tmp/s'], 'vlan').rest, ['/tmp/s']);
  t.is(r.resolve(['listen', 'h', '1'], 'vlan').spec.syntax, 'listen HOST N');
});

test('a VLAN-level command at switch level names the mode it needs', (t) => {
  t.deepEqual(
    codeAndMessage(() => table().resolve(['show', 'b'], 'switch')),
    { code: 'EBADCMD', message: '"show b" needs VLAN mode; enter it with "vlan ID"' },
  );
});

test('a switch-level command in VLAN mode says how to leave VLAN mode', (t) => {
  t.deepEqual(
    codeAndMessage(() => table().resolve(['show', 'c'], 'vlan')),
    { code: 'EBADCMD', message: '"show c" is a switch-level command; leave VLAN mode with "exit"' },
  );
});

test('unknown words point at help, narrowed to the first word when it is known', (t) => {
  const r = table();
  t.deepEqual(codeAndMessage(() => r.resolve(['shw', 'a'], 'switch')), {
    code: 'EBADCMD',
    message: 'unknown command "shw a"; try "help"',
  });
  t.deepEqual(codeAndMessage(() => r.resolve(['show', 'zz'], 'switch')), {
    code: 'EBADCMD',
    message: 'unknown command "show zz"; try "help show"',
  });
});

test('a prefix of a command is reported as incomplete', (t) => {
  t.deepEqual(codeAndMessage(() => table().resolve(['show'], 'switch')), {
    code: 'EBADCMD',
    message: 'incomplete command "show"; try "help show"',
  });
});

test('missing and extra arguments are EBADARG with the usage', (t) => {
  const r = table();
  t.deepEqual(codeAndMessage(() => parseArgs(spec(r, 'listen HOST N'), ['h'])), {
    code: 'EBADARG',
    message: '"listen" needs N; usage: listen HOST N',
  });
  t.deepEqual(codeAndMessage(() => parseArgs(spec(r, 'listen HOST N'), ['h', '1', '2'])), {
    code: 'EBADARG',
    message: 'unexpected argument "2" to "listen"; usage: listen HOST N',
  });
});

test('argument parsers convert words and their errors come through unchanged', (t) => {
  const r = table();
  const args = parseArgs(spec(r, 'listen HOST N'), ['h', '42']);
  t.is(args.string('HOST'), 'h');
  t.is(args.number('N'), 42);
  t.deepEqual(codeAndMessage(() => parseArgs(spec(r, 'listen HOST N'), ['h', 'x'])), {
    code: 'EBADARG',
    message: 'N must be a number, got "x"',
  });
});

test('an optional argument may be left out', (t) => {
  const r = table();
  t.false(parseArgs(spec(r, 'opt [N]'), []).has('N'));
  t.is(parseArgs(spec(r, 'opt [N]'), ['7']).number('N'), 7);
});

test('asking for an argument as the wrong type is an internal error', (t) => {
  const args = parseArgs(spec(table(), 'listen HOST N'), ['h', '1']);
  t.deepEqual(codeAndMessage(() => args.number('HOST')), { code: 'EINTERNAL', message: 'argument HOST is not a number' });
  t.deepEqual(codeAndMessage(() => args.string('N')), { code: 'EINTERNAL', message: 'argument N is not a word' });
  t.deepEqual(args.words('HOST'), []);
});

test('a one-shot run refuses commands that change the mode', async (t) => {
  const r = new CommandRegistry().add({
    path: ['leave'],
    syntax: 'leave',
    example: 'leave',
    help: 'leave',
    mode: 'vlan',
    args: [],
    changesMode: true,
    handler: () => ({ lines: [], mode: null }),
  });
  const err = await t.throwsAsync(r.run(['leave'], { sw: new SampleSwitch(), vid: 10, oneShot: true }));
  t.like(err, { code: 'EBADCMD', message: '"leave" cannot follow a one-shot "vlan 10" prefix' });
  t.deepEqual(await r.run(['leave'], { sw: new SampleSwitch(), vid: 10 }), { lines: [], mode: null });
});

test('registering the same path twice at one level is refused', (t) => {
  const r = table();
  const err = t.throws(() => r.add({ path: ['show', 'b'], syntax: 'show b', example: 'show b', help: '', mode: 'any', args: [], handler: echo('') }));
  t.like(err, { code: 'EINTERNAL' });
});

test('a rest argument must be the last one', (t) => {
  const err = t.throws(() =>
    new CommandRegistry().add({ path: ['r'], syntax: 'r', example: 'r', help: '', mode: 'any', args: [{ name: 'A', rest: true }, { name: 'B' }], handler: echo('') }),
  );
  t.like(err, { code: 'EINTERNAL' });
});

test('completion offers the next words at the level, hiding hidden commands until typed', (t) => {
  const r = table();
  t.deepEqual(r.complete([], '', 'switch'), ['listen', 'opt', 'show']);
  t.deepEqual(r.complete(['show'], '', 'switch'), ['a', 'c']);
  t.deepEqual(r.complete(['show'], '', 'vlan'), ['a', 'b']);
  t.deepEqual(r.complete([], 's', 'vlan'), ['show']);
  t.deepEqual(r.complete(['secret'], '', 'vlan'), ['x']);
  t.deepEqual(r.complete([], 'se', 'vlan', true), ['secret']);
});
