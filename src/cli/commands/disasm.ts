// trapdoor disasm: bytes → one instruction per line.

import { Option, type Command } from 'commander';
import { disassemble, formatListing } from '../../cpu/capstone.js';
import { ASM_ARCHES, type AsmArch, type AsmSyntax } from '../../cpu/keystone.js';
import { fail, parseAddress } from '../util.js';

/** "78 70 a0 e3" or "7870a0e3" (or several such arguments) → bytes; names the bad token. */
export function parseHexBytes(args: string[]): Uint8Array {
  const tokens = args.join(' ').trim().split(/[\s,]+/).filter(Boolean);
  if (tokens.length === 0) throw new Error('no bytes given');
  const out: number[] = [];
  for (const tok of tokens) {
    const t = tok.replace(/^0x/i, '');
    if (!/^[0-9a-f]+$/i.test(t)) throw new Error(`"${tok}" is not hex`);
    if (t.length % 2) throw new Error(`"${tok}" has an odd number of hex digits`);
    for (let i = 0; i < t.length; i += 2) out.push(parseInt(t.slice(i, i + 2), 16));
  }
  return Uint8Array.from(out);
}

export function register(program: Command): void {
  program
    .command('disasm')
    .description('disassemble bytes, one instruction per line: ADDRESS: BYTES  MNEMONIC OPERANDS')
    .argument('<hex...>', 'bytes as hex pairs ("78 70 a0 e3") or runs ("7870a0e3")')
    .addOption(new Option('--arch <arch>', 'arm, thumb or x86 (i386)').choices(ASM_ARCHES as string[]).makeOptionMandatory())
    .addOption(new Option('--syntax <syntax>', 'x86 syntax: att or intel').choices(['att', 'intel']).default('att'))
    .option('--addr <addr>', 'address of the first byte', '0')
    .addHelpText('after', `
Examples:
  trapdoor disasm --arch arm 78 70 a0 e3 00 00 00 ef
  trapdoor disasm --arch x86 --syntax intel b800e0ffff21e0`)
    .action((hex: string[], o: { arch: AsmArch; syntax: AsmSyntax; addr: string }) => {
      let bytes: Uint8Array;
      let addr: number;
      try {
        addr = parseAddress(o.addr);
        bytes = parseHexBytes(hex);
      } catch (e) {
        fail('disasm', (e as Error).message);
      }
      for (const line of formatListing(disassemble(bytes, { arch: o.arch, syntax: o.syntax, addr }))) process.stdout.write(line + '\n');
    });
}
