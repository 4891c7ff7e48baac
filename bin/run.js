#!/usr/bin/env node
// The `dives` executable: hands argv to oclif, which finds the compiled
// commands under dist/src/commands. Runs on the main thread.
import { execute } from '@oclif/core';

await execute({ dir: import.meta.url });
