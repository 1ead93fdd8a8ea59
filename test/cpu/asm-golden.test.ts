// Keystone (through src/cpu/keystone.ts and its radix guard) against GNU as, the reference.
//
// For each corpus in test/cpu/corpus/ GNU as assembles the whole file ONCE, with a label
// before every line; `ld -Ttext=0` places it at address 0 (so numeric branch targets resolve
// as the absolute addresses they are), `nm` gives each label's address and `objcopy -O binary`
// the bytes. Keystone then assembles every line alone, at the address GNU gave that line, and
// the bytes must be equal. Each mismatch is reported with both byte strings.
//
// The GNU cross assemblers are required, not optional: without them this test FAILS (run
// `npm test`, whose setup installs Debian's binutils-arm-linux-gnueabi and
// binutils-i686-linux-gnu).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { disassemble } from '../../src/cpu/capstone.js';
import { assembleOne, type AsmArch, type AsmSyntax } from '../../src/cpu/keystone/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));

interface Corpus {
  file: string;
  arch: AsmArch;
  syntax: AsmSyntax;
  comment: string;
  prefix: string;
  asFlags: string[];
  ldFlags: string[];
  header: string;
  min: number;
}

const CORPORA: Corpus[] = [
  {
    file: 'arm.s',
    arch: 'arm',
    syntax: 'att',
    comment: '@',
    prefix: 'arm-linux-gnueabi-',
    asFlags: ['-march=armv7-a'],
    ldFlags: [],
    header: '.syntax unified\n.arm\n',
    min: 60,
  },
  {
    file: 'thumb.s',
    arch: 'thumb',
    syntax: 'att',
    comment: '@',
    prefix: 'arm-linux-gnueabi-',
    asFlags: ['-march=armv7-a'],
    ldFlags: [],
    header: '.syntax unified\n.thumb\n',
    min: 30,
  },
  {
    file: 'x86-att.s',
    arch: 'x86',
    syntax: 'att',
    comment: '#',
    prefix: 'i686-linux-gnu-',
    asFlags: ['--32'],
    ldFlags: ['-m', 'elf_i386'],
    header: '',
    min: 60,
  },
  {
    file: 'x86-intel.s',
    arch: 'x86',
    syntax: 'intel',
    comment: '#',
    prefix: 'i686-linux-gnu-',
    asFlags: ['--32'],
    ldFlags: ['-m', 'elf_i386'],
    header: '.intel_syntax noprefix\n',
    min: 20,
  },
];

/**
 * Lines where keystone's bytes differ from GNU's. Each is asserted to STILL differ (so a
 * keystone upgrade that fixes it is noticed), and `equivalent` ones to decode to the same
 * instruction at the same address (same mnemonic, same absolute target).
 */
const KNOWN_DIFFERENCES: { file: string; line: string; equivalent: boolean; why: string }[] = [
  {
    file: 'thumb.s',
    line: 'ldr.w r0, [r1, #-4]',
    equivalent: false,
    why: 'keystone rejects an explicit .w with a negative offset (Invalid operand); `ldr r0, [r1, #-4]` gives the same f851 0c04',
  },
  { file: 'thumb.s', line: 'adds r0, r0, #1', equivalent: true, why: 'GNU: adds r0, #1 (T2, 01 30); keystone: the 3-operand T1 form (40 1c)' },
  { file: 'thumb.s', line: 'subs r0, r0, #1', equivalent: true, why: 'GNU: subs r0, #1 (T2, 01 38); keystone: the 3-operand T1 form (40 1e)' },
  {
    file: 'thumb.s',
    line: 'beq.w 0x4000',
    equivalent: false,
    why: 'keystone mis-encodes Thumb-2 conditional wide branches (T3): the target comes out wrong; the wrapper notices (branch verification) and refuses it',
  },
  { file: 'x86-att.s', line: 'jmp 0x10', equivalent: true, why: 'GNU: jmp rel32 (a relocation, never relaxed); keystone: jmp rel8 (eb)' },
  { file: 'x86-att.s', line: 'je 0x20', equivalent: true, why: 'GNU: je rel32 (0f 84); keystone: je rel8 (74)' },
  {
    file: 'x86-att.s',
    line: 'int $3',
    equivalent: false,
    why: 'GNU emits the one-byte breakpoint int3 (cc), keystone int imm8 (cd 03): both raise vector 3 in protected mode, but they are different instructions (v8086 IOPL check, debuggers patch cc)',
  },
];

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

function corpusLines(c: Corpus): string[] {
  return readFileSync(join(HERE, 'corpus', c.file), 'utf8')
    .split('\n')
    .map((l) => {
      const i = l.indexOf(c.comment);
      return (i < 0 ? l : l.slice(0, i)).trim();
    })
    .filter((l) => l.length > 0);
}

function requireTool(tool: string): void {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'pipe' });
  } catch {
    const bar = '!'.repeat(78);
    throw new Error(
      `\n${bar}\n${tool} is missing: the keystone-vs-GNU-as golden test needs Debian's cross binutils.\n` +
        `Run \`npm test\`, which installs them (binutils-arm-linux-gnueabi, binutils-i686-linux-gnu),\n` +
        `or: sudo apt-get install binutils-arm-linux-gnueabi binutils-i686-linux-gnu\n${bar}`,
    );
  }
}

/** GNU's bytes for every line: one as + ld + nm + objcopy run for the whole corpus. */
function gnuBytes(c: Corpus, lines: string[]): { addr: number; bytes: Uint8Array }[] {
  for (const t of ['as', 'ld', 'nm', 'objcopy']) requireTool(c.prefix + t);
  const dir = mkdtempSync(join(tmpdir(), 'td-golden-'));
  try {
    const src = [...c.header.split('\n').filter(Boolean), '.text', '.globl _start', '_start:'];
    lines.forEach((l, i) => src.push(`td_line_${i}:`, `\t${l}`));
    src.push(`td_line_${lines.length}:`, '');
    writeFileSync(join(dir, 'c.s'), src.join('\n'));
    const run = (tool: string, args: string[]) => {
      try {
        return execFileSync(c.prefix + tool, args, { cwd: dir, stdio: 'pipe', encoding: 'utf8' });
      } catch (e) {
        const err = e as { stderr?: string };
        // map GNU's "c.s:LINE: Error: ..." back to corpus lines
        const msg = String(err.stderr ?? e).replace(/c\.s:(\d+):/g, (_m, n: string) => {
          const srcLine = src[Number(n) - 1] ?? '';
          return `corpus line "${srcLine.trim()}":`;
        });
        throw new Error(`${c.prefix}${tool} failed on ${c.file}:\n${msg}`);
      }
    };
    run('as', [...c.asFlags, '-o', 'c.o', 'c.s']);
    run('ld', [...c.ldFlags, '-Ttext=0', '-e', '0', '-o', 'c.elf', 'c.o']);
    run('objcopy', ['-O', 'binary', '-j', '.text', 'c.elf', 'c.bin']);
    const syms = new Map<number, number>();
    for (const l of run('nm', ['c.elf']).split('\n')) {
      const m = /^([0-9a-f]+) \w td_line_(\d+)$/.exec(l.trim());
      if (m) syms.set(Number(m[2]), parseInt(m[1]!, 16));
    }
    const bin = new Uint8Array(readFileSync(join(dir, 'c.bin')));
    return lines.map((_l, i) => {
      const a = syms.get(i);
      const b = syms.get(i + 1);
      if (a === undefined || b === undefined) throw new Error(`nm did not list td_line_${i}/${i + 1} in ${c.file}`);
      return { addr: a, bytes: bin.slice(a, b) };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Mnemonic and operands as Capstone (Intel syntax for x86) reads them, address included;
 * `op rd, rd, x` is written `op rd, x` (Thumb's 2- and 3-operand forms mean the same).
 */
function meaning(c: Corpus, bytes: Uint8Array, addr: number): string {
  return disassemble(bytes, { arch: c.arch, syntax: 'intel', addr })
    .map((i) => `${i.mnemonic} ${i.opStr}`.replace(/^(\S+) (\w+), \2, /, '$1 $2, '))
    .join('; ');
}

describe.each(CORPORA)('keystone vs GNU as: $file', (c) => {
  const lines = corpusLines(c);
  let gnu: { addr: number; bytes: Uint8Array }[] = [];
  beforeAll(() => {
    gnu = gnuBytes(c, lines);
  });

  it(`has at least ${c.min} instructions`, () => {
    expect(lines.length).toBeGreaterThanOrEqual(c.min);
  });

  it('encodes every line exactly as GNU as does (at the same address)', () => {
    const known = new Map(KNOWN_DIFFERENCES.filter((k) => k.file === c.file).map((k) => [k.line, k]));
    const problems: string[] = [];
    lines.forEach((l, i) => {
      const { addr, bytes: theirs } = gnu[i]!;
      let oursBytes: Uint8Array | null = null;
      let ours: string;
      try {
        oursBytes = assembleOne(l, { arch: c.arch, syntax: c.syntax, addr });
        ours = hex(oursBytes);
      } catch (e) {
        ours = `error: ${(e as Error).message}`;
      }
      const at = `0x${addr.toString(16)}`;
      const k = known.get(l);
      if (k) {
        known.delete(l);
        if (ours === hex(theirs)) {
          problems.push(`${l}  (at ${at}): listed in KNOWN_DIFFERENCES but now equal to GNU — remove it`);
        } else if (k.equivalent && (!oursBytes || meaning(c, oursBytes, addr) !== meaning(c, theirs, addr))) {
          problems.push(
            `${l}  (at ${at}): listed as an equivalent encoding, but the meaning differs\n` +
              `    keystone: ${ours}  = ${oursBytes ? meaning(c, oursBytes, addr) : '-'}\n` +
              `    GNU as:   ${hex(theirs)}  = ${meaning(c, theirs, addr)}`,
          );
        }
        return;
      }
      if (ours !== hex(theirs)) {
        problems.push(`${l}  (at ${at})\n    keystone: ${ours}\n    GNU as:   ${hex(theirs)}`);
      }
    });
    for (const k of known.values()) problems.push(`KNOWN_DIFFERENCES names "${k.line}", which is not in ${c.file}`);
    expect(problems, `${problems.length} line(s) of ${c.file} differ:\n${problems.join('\n')}`).toEqual([]);
  });
});
