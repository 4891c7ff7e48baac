// `dives help [COMMAND]`: oclif's own help for dives or one of its commands, the
// same text `--help` prints, for people who type `help` first. Main thread.

import { Args, Command, loadHelpClass } from '@oclif/core';

export default class Help extends Command {
  static override summary = 'Show help for dives, or for one of its commands.';

  static override examples = ['<%= config.bin %> help', '<%= config.bin %> help start', '<%= config.bin %> help ctl'];

  static override strict = false;

  static override args = {
    command: Args.string({ required: false, ignoreStdin: true, description: 'the command to show help for' }),
  };

  async run(): Promise<void> {
    const { argv } = await this.parse(Help);
    const HelpClass = await loadHelpClass(this.config);
    await new HelpClass(this.config, { all: false }).showHelp(argv as string[]);
  }
}
