// trapdoor's command line. Each command lives in src/cli/commands/ and
// registers itself on the commander program.

import { Command } from 'commander';
import { register as registerAsm } from './commands/asm.js';
import { register as registerDisasm } from './commands/disasm.js';
import { register as registerRun } from './commands/run.js';
import { register as registerDemo } from './commands/demo.js';

const program = new Command();
program
  .name('trapdoor')
  .description('Step real ARM and x86 machine code across the Linux syscall boundary, into a model of the kernel\'s process path.')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .addHelpText('after', `
Examples:
  trapdoor asm --arch x86 --syntax att 'movl $-8192,%eax; andl %esp,%eax'
  trapdoor disasm --arch arm 78 70 a0 e3 00 00 00 ef
  trapdoor run hello.S --arch arm
  trapdoor demo fork --arch x86`);

registerAsm(program);
registerDisasm(program);
registerRun(program);
registerDemo(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  process.stderr.write(`trapdoor: ${(e as Error).message}\n`);
  process.exitCode = 1;
}
