// trapdoor disasm: bytes -> one instruction per line (ADDRESS: BYTES  MNEMONIC OPERANDS).

import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { disassemble, formatListing } from '../../cpu/capstone.js';
import { ASM_ARCHES, ASM_SYNTAXES, type AsmArch, type AsmSyntax } from '../../cpu/keystone/index.js';
import { commandFail, parseAddress, writeOut } from '../util.js';

export interface DisasmDeps {
  /** Reads standard input (for the `-` argument); tests inject their own. */
  readStdin?: () => string;
}

/**
 * "78 70 a0 e3", "7870a0e3" or several such arguments (commas allowed, 0x prefixes too)
 * -> bytes. Throws an Error naming the bad token and why it is bad.
 */
export function parseHexBytes(args: string[]): Uint8Array {
  const tokens = args.join(' ').trim().split(/[\s,]+/).filter(Boolean);
  if (tokens.length === 0) throw new Error('no bytes given');
  const out: number[] = [];
  tokens.forEach((tok, n) => {
    const t = tok.replace(/^0x/i, '');
    const where = tokens.length > 1 ? ` (token ${n + 1} of ${tokens.length})` : '';
    const bad = /[^0-9a-f]/i.exec(t);
    if (bad || t === '') {
      throw new Error(`"${tok}"${where} is not hex${bad ? `: "${bad[0]}" is not a hex digit` : ''}`);
    }
    if (t.length % 2) {
      throw new Error(`"${tok}"${where} has an odd number of hex digits (${t.length}); write each byte as two digits`);
    }
    for (let i = 0; i < t.length; i += 2) out.push(parseInt(t.slice(i, i + 2), 16));
  });
  return Uint8Array.from(out);
}

export function register(program: Command, deps: DisasmDeps = {}): void {
  const readStdin = deps.readStdin ?? (() => readFileSync(0, 'utf8'));
  program
    .command('disasm')
    .description('disassemble bytes, one instruction per line: ADDRESS: BYTES  MNEMONIC OPERANDS')
    .argument('<hex...>', 'bytes as hex pairs ("78 70 a0 e3"), runs ("7870a0e3"), or - to read standard input')
    .addOption(
      new Option('--arch <arch>', 'instruction set (x86 = 32-bit i386)')
        .choices(ASM_ARCHES as string[])
        .makeOptionMandatory(),
    )
    .addOption(
      new Option('--syntax <syntax>', 'x86 only: att (like objdump, the default) or intel')
        .choices(ASM_SYNTAXES as string[])
        .default('att'),
    )
    .option('--addr <addr>', 'address of the first byte, 0x-hex or decimal (shown in the listing, used for branch targets)', '0')
    .addHelpText(
      'after',
      `
Options in use:
  --arch arm    ARM (A32) code       --arch thumb   Thumb-2 code       --arch x86   i386 code
  --syntax att  x86 listing in AT&T syntax, the default; --syntax intel for Intel syntax.
                Ignored for arm and thumb.
  --addr A      address of the first byte: 0x1000 or 4096.

Bytes that do not decode are shown as data (.word for arm, .short for thumb, .byte for x86)
and the listing goes on after them.

Examples:
  $ trapdoor disasm --arch arm 78 70 a0 e3 00 00 00 ef
  00000000: 78 70 a0 e3  mov r7, #0x78
  00000004: 00 00 00 ef  svc #0
  $ trapdoor disasm --arch x86 --addr 0xc0001000 b800e0ffff21e0
  c0001000: b8 00 e0 ff ff  movl $0xffffe000, %eax
  c0001005: 21 e0           andl %esp, %eax
  $ trapdoor disasm --arch x86 --syntax intel 'cd 80'
  00000000: cd 80  int 0x80`,
    )
    .action(function (this: Command, hex: string[], o: { arch: AsmArch; syntax: AsmSyntax; addr: string }) {
      let addr: number;
      try {
        addr = parseAddress(o.addr);
      } catch (e) {
        commandFail(this, `--addr: ${(e as Error).message}`);
      }
      let bytes: Uint8Array;
      try {
        const args = hex.length === 1 && hex[0] === '-' ? [readStdin()] : hex;
        bytes = parseHexBytes(args);
      } catch (e) {
        commandFail(this, (e as Error).message);
      }
      const lines = formatListing(disassemble(bytes, { arch: o.arch, syntax: o.syntax, addr }));
      writeOut(this, lines.join('\n') + '\n');
    });
}
