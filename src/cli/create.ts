// `sta create`: not built yet (see the open issues); exits 1 saying so.
import type { Command } from 'commander';
import { StaError } from '../util/index.js';
import { action } from './run.js';

export function register(program: Command): Command {
  return program
    .command('create')
    .description('(not available yet)')
    .allowUnknownOption()
    .argument('[args...]')
    .action(
      action(() => {
        throw new StaError('NOT_YET', 'create is not available yet in this build', 1);
      }),
    );
}
