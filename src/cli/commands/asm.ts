// trapdoor asm: instructions → bytes, one line of lowercase hex pairs.

import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { ASM_ARCHES, AsmError, assemble, type AsmArch, type AsmSyntax } from '../../cpu/keystone.js';
import { fail, parseAddress } from '../util.js';

export function register(program: Command): void {
  program
    .command('asm')
    .description('assemble instructions (separated by ";" or newlines) and print their bytes')
    .argument('<insns>', 'instructions, or - to read them from standard input')
    .addOption(new Option('--arch <arch>', 'arm, thumb or x86 (i386)').choices(ASM_ARCHES as string[]).makeOptionMandatory())
    .addOption(new Option('--syntax <syntax>', 'x86 syntax: att (GNU as style) or intel').choices(['att', 'intel']).default('att'))
    .option('--addr <addr>', 'address of the first instruction (matters for pc-relative branches)', '0')
    .addHelpText('after', `
Examples:
  trapdoor asm --arch x86 --syntax att 'movl $-8192,%eax; andl %esp,%eax'   → b8 00 e0 ff ff 21 e0
  trapdoor asm --arch arm 'mov r7, #120; svc #0'                              → 78 70 a0 e3 00 00 00 ef
  trapdoor asm --arch arm --addr 0x8000 'b 0x8010'                          (branch targets are absolute)`)
    .action((insns: string, o: { arch: AsmArch; syntax: AsmSyntax; addr: string }) => {
      let addr: number;
      try {
        addr = parseAddress(o.addr);
      } catch (e) {
        fail('asm', (e as Error).message);
      }
      const src = insns === '-' ? readFileSync(0, 'utf8') : insns;
      try {
        const bytes = assemble(src, { arch: o.arch, syntax: o.syntax, addr });
        process.stdout.write(Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ') + '\n');
      } catch (e) {
        if (e instanceof AsmError) fail('asm', e.message);
        throw e;
      }
    });
}
