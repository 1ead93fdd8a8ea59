// `trapdoor asm` and `trapdoor disasm`, driven in-process through a fresh commander program
// (output captured, exits turned into CommanderErrors), plus one spawn of the built CLI.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { register as registerAsm } from '../../src/cli/commands/asm.js';
import { parseHexBytes, register as registerDisasm } from '../../src/cli/commands/disasm.js';
import { parseAddress } from '../../src/cli/util.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Run {
  out: string;
  err: string;
  code: number;
}

function trapdoor(args: string[], stdin = ''): Run {
  let out = '';
  let err = '';
  const program = new Command();
  // configured before the commands are registered, so they inherit it (as in src/cli/main.ts)
  program
    .name('trapdoor')
    .exitOverride()
    .configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (err += s) })
    .showHelpAfterError('(run with --help for usage)');
  registerAsm(program, { readStdin: () => stdin });
  registerDisasm(program, { readStdin: () => stdin });
  let code = 0;
  try {
    program.parse(['node', 'trapdoor', ...args]);
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    code = e.exitCode;
  }
  return { out, err, code };
}

describe('trapdoor asm', () => {
  it('prints lowercase hex pairs on one line', () => {
    expect(trapdoor(['asm', '--arch', 'x86', '--syntax', 'att', 'movl $-8192,%eax; andl %esp,%eax'])).toEqual({
      out: 'b8 00 e0 ff ff 21 e0\n',
      err: '',
      code: 0,
    });
    expect(trapdoor(['asm', '--arch', 'arm', 'mov r7, #120; svc #0']).out).toBe('78 70 a0 e3 00 00 00 ef\n');
    expect(trapdoor(['asm', '--arch', 'x86', 'int $128']).out).toBe('cd 80\n');
  });
  it('Intel syntax, Thumb, and unquoted words', () => {
    expect(trapdoor(['asm', '--arch', 'x86', '--syntax', 'intel', 'mov eax, 20; int 0x80']).out).toBe('b8 14 00 00 00 cd 80\n');
    expect(trapdoor(['asm', '--arch', 'thumb', 'movs r7, #120; svc #0']).out).toBe('78 27 00 df\n');
    expect(trapdoor(['asm', '--arch', 'arm', 'mov', 'r7,', '#120']).out).toBe('78 70 a0 e3\n');
  });
  it('--addr takes hex or decimal; branch targets are absolute', () => {
    expect(trapdoor(['asm', '--arch', 'arm', '--addr', '0x8000', 'b 0x8010']).out).toBe('02 00 00 ea\n');
    expect(trapdoor(['asm', '--arch', 'arm', '--addr', '32768', 'b 0x8010']).out).toBe('02 00 00 ea\n');
    expect(trapdoor(['asm', '--arch', 'x86', '--addr', '0x1000', 'jmp 0x1010']).out).toBe('eb 0e\n');
  });
  it('reads standard input for -', () => {
    expect(trapdoor(['asm', '--arch', 'x86', '-'], 'movl $-8192,%eax\nandl %esp,%eax\n').out).toBe('b8 00 e0 ff ff 21 e0\n');
  });
  it('malformed assembly: one line on stderr, exit 1, no usage hint, no stack trace', () => {
    const r = trapdoor(['asm', '--arch', 'arm', 'mov r7, #120; bogus r1']);
    expect(r).toEqual({
      out: '',
      err: 'trapdoor asm: cannot assemble "bogus r1": Invalid mnemonic (KS_ERR_ASM_MNEMONICFAIL)\n',
      code: 1,
    });
    expect(trapdoor(['asm', '--arch', 'x86', 'int $256']).err).toMatch(/^trapdoor asm: cannot assemble "int \$256": assembled to 0 bytes/);
    expect(trapdoor(['asm', '--arch', 'x86', '%eax']).code).toBe(1);
  });
  it('an unknown --arch lists the valid ones', () => {
    const r = trapdoor(['asm', '--arch', 'foo', 'nop']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('arm, thumb, x86');
  });
  it('a missing --arch, a bad --addr, an empty source', () => {
    expect(trapdoor(['asm', 'nop']).err).toMatch(/--arch/);
    const bad = trapdoor(['asm', '--arch', 'x86', '--addr', '0xzz', 'nop']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^trapdoor asm: --addr: "0xzz" is not an address/);
    expect(trapdoor(['asm', '--arch', 'x86', ' ']).err).toBe('trapdoor asm: no instructions to assemble\n');
  });
  it('--help explains every option with examples', () => {
    const r = trapdoor(['asm', '--help']);
    expect(r.code).toBe(0);
    for (const s of ['--arch', '--syntax', '--addr', 'Examples:', "trapdoor asm --arch x86 'movl $-8192,%eax; andl %esp,%eax'"]) {
      expect(r.out).toContain(s);
    }
  });
});

describe('trapdoor disasm', () => {
  it('prints one instruction per line, aligned', () => {
    expect(trapdoor(['disasm', '--arch', 'arm', '78', '70', 'a0', 'e3', '00', '00', '00', 'ef'])).toEqual({
      out: '00000000: 78 70 a0 e3  mov r7, #0x78\n00000004: 00 00 00 ef  svc #0\n',
      err: '',
      code: 0,
    });
    expect(trapdoor(['disasm', '--arch', 'x86', '--addr', '0xc0001000', 'b800e0ffff21e0']).out).toBe(
      'c0001000: b8 00 e0 ff ff  movl $0xffffe000, %eax\nc0001005: 21 e0           andl %esp, %eax\n',
    );
  });
  it('accepts one string with spaces, runs, and Intel syntax', () => {
    expect(trapdoor(['disasm', '--arch', 'arm', '78 70 a0 e3']).out).toBe('00000000: 78 70 a0 e3  mov r7, #0x78\n');
    expect(trapdoor(['disasm', '--arch', 'arm', '7870a0e3']).out).toBe('00000000: 78 70 a0 e3  mov r7, #0x78\n');
    expect(trapdoor(['disasm', '--arch', 'x86', '--syntax', 'intel', 'cd 80']).out).toBe('00000000: cd 80  int 0x80\n');
    expect(trapdoor(['disasm', '--arch', 'thumb', '--addr', '4096', '7827', '00df']).out).toBe(
      '00001000: 78 27  movs r7, #0x78\n00001002: 00 df  svc #0\n',
    );
  });
  it('reads standard input for -', () => {
    expect(trapdoor(['disasm', '--arch', 'x86', '-'], 'cd 80\n').out).toBe('00000000: cd 80  int $0x80\n');
  });
  it('undecodable bytes stay in the listing', () => {
    expect(trapdoor(['disasm', '--arch', 'arm', 'ffffffff 000000ef']).out).toBe(
      '00000000: ff ff ff ff  .word 0xffffffff\n00000004: 00 00 00 ef  svc #0\n',
    );
  });
  it('bad hex names the token', () => {
    const odd = trapdoor(['disasm', '--arch', 'arm', '78', '7', 'a0']);
    expect(odd.code).toBe(1);
    expect(odd.err).toBe('trapdoor disasm: "7" (token 2 of 3) has an odd number of hex digits (1); write each byte as two digits\n');
    const nonHex = trapdoor(['disasm', '--arch', 'arm', '78 zz']);
    expect(nonHex.code).toBe(1);
    expect(nonHex.err).toBe('trapdoor disasm: "zz" (token 2 of 2) is not hex: "z" is not a hex digit\n');
  });
  it('an unknown --arch lists the valid ones', () => {
    const r = trapdoor(['disasm', '--arch', 'mips', '00']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('arm, thumb, x86');
  });
  it('--help explains every option with examples', () => {
    const r = trapdoor(['disasm', '--help']);
    expect(r.code).toBe(0);
    for (const s of ['--arch', '--syntax', '--addr', 'Examples:', 'trapdoor disasm --arch arm 78 70 a0 e3 00 00 00 ef']) {
      expect(r.out).toContain(s);
    }
  });
});

describe('helpers', () => {
  it('parseAddress: 0x-hex or decimal, 32-bit', () => {
    expect(parseAddress('0x8000')).toBe(0x8000);
    expect(parseAddress('32768')).toBe(32768);
    expect(parseAddress('0xffffffff')).toBe(0xffffffff);
    expect(() => parseAddress('0x100000000')).toThrow(/not an address/);
    expect(() => parseAddress('-1')).toThrow(/not an address/);
    expect(() => parseAddress('12abc')).toThrow(/not an address/);
  });
  it('parseHexBytes: pairs, runs, 0x prefixes, commas', () => {
    expect(Array.from(parseHexBytes(['78 70', '0xa0e3,00']))).toEqual([0x78, 0x70, 0xa0, 0xe3, 0x00]);
    expect(() => parseHexBytes([' '])).toThrow(/no bytes/);
  });
});

describe('the built CLI', () => {
  const built = existsSync(join(ROOT, 'dist', 'trapdoor.mjs'));
  if (!built) console.warn('dist/trapdoor.mjs is missing (run `npm run build`): skipping the spawn test of bin/trapdoor.mjs');
  it.skipIf(!built)('node bin/trapdoor.mjs asm prints the bytes', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'trapdoor.mjs'), 'asm', '--arch', 'arm', 'mov r7, #120; svc #0'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('78 70 a0 e3 00 00 00 ef\n');
    expect(r.status).toBe(0);
  });
});
