// The `sta` command line (../shared/CONTRACT.md): one file per command, each exporting
// `register(program)`. Usage errors exit 2, as the contract says.
// First import, so it runs before the others load: `sta create` starts its hashing threads.
import './early-threads.js';
import { Command, CommanderError } from 'commander';
import { fail } from './run.js';

type Register = (program: Command) => Command;
/** Each command's module, loaded only when that command runs (or for the full help), so a
 *  cold `sta create` does not pay for the peer engine's imports (~40 ms measured). */
const COMMANDS: Record<string, () => Promise<{ register: Register }>> = {
  create: () => import('./create.js'),
  info: () => import('./info.js'),
  tracker: () => import('./tracker.js'),
  seed: () => import('./seed.js'),
  download: () => import('./download.js'),
  daemon: () => import('./daemon.js'),
};

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

const asked = process.argv[2];
const needed = asked !== undefined && asked in COMMANDS ? [asked] : Object.keys(COMMANDS);
const modules = await Promise.all(needed.map((name) => COMMANDS[name]!()));
for (const { register } of modules) {
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
