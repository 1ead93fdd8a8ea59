// The disassembler wrapper: listings, syntaxes, and bytes that do not decode.
import { describe, expect, it } from 'vitest';
import { disassemble, formatInsn, formatListing } from '../../src/cpu/capstone.js';
import { assemble } from '../../src/cpu/keystone/index.js';

const bytes = (s: string) => Uint8Array.from(s.split(/\s+/).filter(Boolean).map((b) => parseInt(b, 16)));
const text = (l: ReturnType<typeof disassemble>) => l.map((i) => (i.opStr ? `${i.mnemonic} ${i.opStr}` : i.mnemonic));

describe('disassemble', () => {
  it('ARM at an address', () => {
    const l = disassemble(bytes('78 70 a0 e3 00 00 00 ef'), { arch: 'arm', addr: 0x1000 });
    expect(l.map((i) => [i.address, i.size])).toEqual([
      [0x1000, 4],
      [0x1004, 4],
    ]);
    expect(text(l)).toEqual(['mov r7, #0x78', 'svc #0']);
    expect(l[0]!.bytes).toEqual(bytes('78 70 a0 e3'));
  });
  it('x86 in AT&T (default) and Intel syntax', () => {
    const code = bytes('b8 00 e0 ff ff 21 e0 cd 80');
    expect(text(disassemble(code, { arch: 'x86' }))).toEqual(['movl $0xffffe000, %eax', 'andl %esp, %eax', 'int $0x80']);
    expect(text(disassemble(code, { arch: 'x86', syntax: 'intel' }))).toEqual(['mov eax, 0xffffe000', 'and eax, esp', 'int 0x80']);
  });
  it('Thumb', () => {
    expect(text(disassemble(bytes('78 27 00 df'), { arch: 'thumb' }))).toEqual(['movs r7, #0x78', 'svc #0']);
  });
  it('branch targets are shown as absolute addresses', () => {
    expect(text(disassemble(bytes('02 00 00 ea'), { arch: 'arm', addr: 0x8000 }))).toEqual(['b #0x8010']);
    expect(text(disassemble(bytes('eb 0e'), { arch: 'x86', syntax: 'intel', addr: 0x1000 }))).toEqual(['jmp 0x1010']);
  });
  it('round-trips what keystone assembles', () => {
    const code = assemble('movl $-8192,%ebp; andl %esp,%ebp; call *0x1000(,%eax,4)', { arch: 'x86' });
    expect(text(disassemble(code, { arch: 'x86' }))).toEqual(['movl $0xffffe000, %ebp', 'andl %esp, %ebp', 'calll *0x1000(, %eax, 4)']);
  });
  it('count limits the number of lines', () => {
    expect(disassemble(bytes('90 90 90 90'), { arch: 'x86', count: 2 })).toHaveLength(2);
    expect(disassemble(bytes('ff ff ff ff 90'), { arch: 'x86', count: 1 })).toHaveLength(1);
  });
  it('empty input gives an empty listing', () => {
    expect(disassemble(new Uint8Array(0), { arch: 'arm' })).toEqual([]);
  });
});

describe('bytes that do not decode are kept, as data lines', () => {
  it('ARM: a .word line for 4 bytes, .byte for a short tail', () => {
    const l = disassemble(bytes('78 70 a0 e3 ff ff ff ff 00 00 00 ef 01 02'), { arch: 'arm', addr: 0x1000 });
    expect(text(l)).toEqual(['mov r7, #0x78', '.word 0xffffffff', 'svc #0', '.byte 0x01, 0x02']);
    expect(l.reduce((n, i) => n + i.size, 0)).toBe(14);
    expect(l[1]!.address).toBe(0x1004);
  });
  it('x86: one .byte line per undecodable byte, then decoding resumes', () => {
    const l = disassemble(bytes('90 0f 0b 0f'), { arch: 'x86' });
    expect(text(l)).toEqual(['nop', 'ud2', '.byte 0x0f']);
    const l2 = disassemble(bytes('d6 90'), { arch: 'x86' }); // salc decodes
    expect(l2).toHaveLength(2);
  });
  it('Thumb: .short for a halfword', () => {
    const l = disassemble(bytes('78 27 f0 f7 00 df'), { arch: 'thumb' });
    expect(l.reduce((n, i) => n + i.size, 0)).toBe(6);
    expect(text(l)[0]).toBe('movs r7, #0x78');
  });
  it('long inputs: instructions straddling Capstone\'s read window are decoded whole', () => {
    const code = new Uint8Array(10000).fill(0x90);
    code.set([0xb8, 1, 2, 3, 4], 4094); // movl $imm32 across the 4096-byte boundary
    const l = disassemble(code, { arch: 'x86' });
    expect(l.filter((i) => i.mnemonic.startsWith('.'))).toEqual([]);
    expect(l.find((i) => i.address === 4094)?.opStr).toBe('$0x4030201, %eax');
    expect(l.reduce((n, i) => n + i.size, 0)).toBe(10000);
  });
  it('addresses wrap at 2^32', () => {
    const l = disassemble(bytes('90 90'), { arch: 'x86', addr: 0xffffffff });
    expect(l.map((i) => i.address)).toEqual([0xffffffff, 0]);
  });
});

describe('formatting', () => {
  it('formatInsn: ADDRESS: BYTES  MNEMONIC OPERANDS', () => {
    const [i] = disassemble(bytes('78 70 a0 e3'), { arch: 'arm', addr: 0x1000 });
    expect(formatInsn(i!)).toBe('00001000: 78 70 a0 e3  mov r7, #0x78');
    const [r] = disassemble(bytes('c3'), { arch: 'x86' });
    expect(formatInsn(r!)).toBe('00000000: c3  retl');
  });
  it('formatListing pads the bytes column so mnemonics line up', () => {
    const l = formatListing(disassemble(bytes('b8 00 e0 ff ff 21 e0 90'), { arch: 'x86', addr: 0xc0001000 }));
    expect(l).toEqual([
      'c0001000: b8 00 e0 ff ff  movl $0xffffe000, %eax',
      'c0001005: 21 e0           andl %esp, %eax',
      'c0001007: 90              nop',
    ]);
  });
});
