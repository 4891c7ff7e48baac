// `dives keygen [FILE]`: makes a new cluster key and prints it, or writes it to a new
// file with mode 0600. Only arguments and printing here; the work is
// src/crypto/cluster-key.ts. Main thread.

import { Args, Command } from '@oclif/core';
import { isDivesError } from '../core/errors.js';
import { formatKey, generateKey, writeKeyFile } from '../crypto/cluster-key.js';

export default class Keygen extends Command {
  static override summary = 'Make a new cluster key, for the switches of a cluster to share.';

  // Paragraphs are single lines: oclif wraps them to the terminal's width.
  static override description = [
    'Makes a key from the system\'s random source: a line "dives-key-v1 ID SECRET" after two comment lines. The ID (8 hex digits) is derived from the SECRET (64 hex digits), so a damaged or mistyped key is refused rather than used.',
    'Without FILE it prints the key on stdout. With FILE it writes the key to a new file with mode 0600 and prints its id; it never overwrites a file (exit 1 if FILE exists).',
    'Whoever holds the key can join the cluster and read its frames: copy it to each host by a secure channel, and keep it readable by its owner only (DiVES refuses a key file that group or others may read).',
  ].join('\n\n');

  static override examples = [
    '<%= config.bin %> keygen /etc/dives/cluster.key',
    '<%= config.bin %> keygen',
    '<%= config.bin %> keygen | ssh host2 "umask 077 && cat > /etc/dives/cluster.key"',
  ];

  static override args = {
    file: Args.string({ required: false, description: 'new file to write the key to (mode 0600); none prints it on stdout' }),
  };

  async run(): Promise<void> {
    const { args } = await this.parse(Keygen);
    const key = generateKey();
    if (args.file === undefined) {
      // The key text ends in a newline, and this.log adds one.
      this.log(formatKey(key).replace(/\n$/, ''));
      return;
    }
    try {
      writeKeyFile(args.file, key);
    } catch (err) {
      if (!isDivesError(err)) throw err;
      // One line a script can match, as `dives ctl` prints its errors.
      process.stderr.write(`error ${err.code}: ${err.message}\n`);
      this.exit(1);
    }
    this.log(`wrote cluster key ${key.idHex} to ${args.file} (mode 0600)`);
  }
}
