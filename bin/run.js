#!/usr/bin/env node
// The `dives` executable: hands argv to oclif, which finds the compiled
// commands under dist/src/commands. Runs on the main thread.
import { execute } from '@oclif/core';

// The original DiVES took -? for help; oclif knows --help, so translate.
const args = process.argv.slice(2).map((a) => (a === '-?' ? '--help' : a));
await execute({ args, dir: import.meta.url });
