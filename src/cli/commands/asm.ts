// trapdoor asm: instructions -> bytes, printed as one line of lowercase hex pairs.

import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { ASM_ARCHES, ASM_SYNTAXES, AsmError, assemble, type AsmArch, type AsmSyntax } from '../../cpu/keystone/index.js';
import { commandFail, parseAddress, writeOut } from '../util.js';

export interface AsmDeps {
  /** Reads standard input (for the `-` argument); tests inject their own. */
  readStdin?: () => string;
}

export function register(program: Command, deps: AsmDeps = {}): void {
  const readStdin = deps.readStdin ?? (() => readFileSync(0, 'utf8'));
  program
    .command('asm')
    .description('assemble instructions and print their bytes as hex pairs on one line')
    .argument(
      '<insns...>',
      'instructions separated by ";" or newlines (quote them for the shell), or - to read standard input',
    )
    .addOption(
      new Option('--arch <arch>', 'instruction set (x86 = 32-bit i386)')
        .choices(ASM_ARCHES as string[])
        .makeOptionMandatory(),
    )
    .addOption(
      new Option('--syntax <syntax>', 'x86 only: att (GNU as style: movl $1, %eax) or intel (mov eax, 1)')
        .choices(ASM_SYNTAXES as string[])
        .default('att'),
    )
    .option(
      '--addr <addr>',
      'address of the first instruction, 0x-hex or decimal; numeric branch targets are absolute addresses',
      '0',
    )
    .addHelpText(
      'after',
      `
Options in use:
  --arch arm    ARM (A32) code       --arch thumb   Thumb-2 code       --arch x86   i386 code
  --syntax att  x86 in GNU as (AT&T) syntax, the default; --syntax intel for Intel syntax.
                Ignored for arm and thumb.
  --addr A      where the code will live: 0x8000 or 32768. Only pc-relative encodings
                (branches, literal loads) depend on it.

Examples:
  $ trapdoor asm --arch x86 'movl $-8192,%eax; andl %esp,%eax'
  b8 00 e0 ff ff 21 e0
  $ trapdoor asm --arch arm 'mov r7, #120; svc #0'
  78 70 a0 e3 00 00 00 ef
  $ trapdoor asm --arch x86 --syntax intel 'mov eax, 20; int 0x80'
  b8 14 00 00 00 cd 80
  $ trapdoor asm --arch arm --addr 0x8000 'b 0x8010'      # branch to the absolute address 0x8010
  02 00 00 ea
  $ echo 'int $0x80' | trapdoor asm --arch x86 -
  cd 80`,
    )
    .action(function (this: Command, insns: string[], o: { arch: AsmArch; syntax: AsmSyntax; addr: string }) {
      let addr: number;
      try {
        addr = parseAddress(o.addr);
      } catch (e) {
        commandFail(this, `--addr: ${(e as Error).message}`);
      }
      let src: string;
      if (insns.length === 1 && insns[0] === '-') {
        try {
          src = readStdin();
        } catch (e) {
          commandFail(this, `cannot read standard input: ${(e as Error).message}`);
        }
      } else src = insns.join(' ');
      if (src.trim() === '') commandFail(this, 'no instructions to assemble');
      let bytes: Uint8Array;
      try {
        bytes = assemble(src, { arch: o.arch, syntax: o.syntax, addr });
      } catch (e) {
        if (e instanceof AsmError) commandFail(this, e.message);
        throw e;
      }
      if (bytes.length === 0) commandFail(this, 'no instructions to assemble (only labels or comments)');
      writeOut(this, Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ') + '\n');
    });
}
