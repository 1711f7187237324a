// The `sta` command line (../shared/CONTRACT.md): one file per command, each exporting
// `register(program)`. Usage errors exit 2, as the contract says.
import { Command, CommanderError } from 'commander';
import { register as registerCreate } from './create.js';
import { register as registerInfo } from './info.js';
import { register as registerTracker } from './tracker.js';
import { register as registerSeed } from './seed.js';
import { register as registerDownload } from './download.js';
import { register as registerDaemon } from './daemon.js';
import { fail } from './run.js';

const program = new Command();
program
  .name('sta')
  .description('sta: a complete BitTorrent system (torrent files, tracker, peer engine, node)')
  .version('0.1.0')
  .option('--verbose', 'show stack traces on errors')
  .showHelpAfterError(false)
  .exitOverride()
  .configureOutput({
    writeErr: (s) => process.stderr.write(s.startsWith('error:') ? `sta: ${s.slice(7)}` : s),
  });

for (const register of [registerCreate, registerInfo, registerTracker, registerSeed, registerDownload, registerDaemon]) {
  const cmd = register(program);
  cmd.exitOverride();
  cmd.option('--verbose', 'show stack traces on errors');
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') process.exit(0);
    process.exit(2);
  }
  fail(e);
}
