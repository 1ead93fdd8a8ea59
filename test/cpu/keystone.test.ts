// The assembler wrapper: the facts the rest of trapdoor builds on, and the Keystone traps
// (radix bug, silent success, hangs, crashes, branch range) kept shut.
import { describe, expect, it } from 'vitest';
import { AsmError, assemble, assembleOne, decimalsToHex, keystoneInitMs } from '../../src/cpu/keystone/index.js';
import { disassemble } from '../../src/cpu/capstone.js';

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
const att = { arch: 'x86', syntax: 'att' } as const;
const intel = { arch: 'x86', syntax: 'intel' } as const;
const arm = { arch: 'arm' } as const;
const thumb = { arch: 'thumb' } as const;

function asmError(f: () => unknown): AsmError {
  try {
    f();
  } catch (e) {
    if (e instanceof AsmError) return e;
    throw e;
  }
  throw new Error('expected an AsmError');
}

describe('the three facts', () => {
  it('movl $-8192,%eax; andl %esp,%eax -> b8 00 e0 ff ff 21 e0', () => {
    expect(hex(assemble('movl $-8192,%eax; andl %esp,%eax', { arch: 'x86', syntax: 'att' }))).toBe('b8 00 e0 ff ff 21 e0');
  });
  it('arm mov r7, #120; svc #0 -> 78 70 a0 e3 00 00 00 ef', () => {
    expect(hex(assemble('mov r7, #120; svc #0', arm))).toBe('78 70 a0 e3 00 00 00 ef');
  });
  it('x86 att int $128 -> cd 80 (not silently nothing)', () => {
    expect(hex(assemble('int $128', att))).toBe('cd 80');
  });
  it('disassembling 78 70 a0 e3 00 00 00 ef gives mov r7, #0x78 and svc #0', () => {
    const d = disassemble(Uint8Array.from([0x78, 0x70, 0xa0, 0xe3, 0, 0, 0, 0xef]), { arch: 'arm' });
    expect(d.map((i) => `${i.mnemonic} ${i.opStr}`)).toEqual(['mov r7, #0x78', 'svc #0']);
  });
});

describe('the radix guard', () => {
  it('x86 defaults to AT&T', () => {
    expect(hex(assemble('movl $-8192,%eax', { arch: 'x86' }))).toBe('b8 00 e0 ff ff');
  });
  it('engines used in sequence (att, intel, att, arm, thumb, att) stay correct', () => {
    for (let round = 0; round < 3; round++) {
      expect(hex(assemble('movl $-8192,%eax', att))).toBe('b8 00 e0 ff ff');
      expect(hex(assemble('mov eax, -8192', intel))).toBe('b8 00 e0 ff ff');
      expect(hex(assemble('movl 12(%esp), %eax', att))).toBe('8b 44 24 0c');
      expect(hex(assemble('mov r7, #120', arm))).toBe('78 70 a0 e3');
      expect(hex(assemble('movs r7, #120', thumb))).toBe('78 27');
      expect(hex(assemble('mov eax, dword ptr [esp+12]', intel))).toBe('8b 44 24 0c');
    }
  });
  it('decimal displacements, scales, negative and octal/binary immediates mean what GNU means', () => {
    expect(hex(assemble('movl 12(%esp), %ebx', att))).toBe('8b 5c 24 0c');
    expect(hex(assemble('call *0x1000(,%eax,4)', att))).toBe('ff 14 85 00 10 00 00');
    expect(hex(assemble('movl $010, %eax', att))).toBe('b8 08 00 00 00');
    expect(hex(assemble('movl $0b101, %eax', att))).toBe('b8 05 00 00 00');
    expect(hex(assemble('.byte 10, 0x10, 010', att))).toBe('0a 10 08');
    expect(hex(assemble('call *%gs:16', att))).toBe('65 ff 15 10 00 00 00');
  });
  it('rewrites decimal literals only', () => {
    expect(decimalsToHex('movl $-8192, 12(%esp,%eax,4)')).toBe('movl $-0x2000, 0xc(%esp,%eax,4)');
    expect(decimalsToHex('int $128')).toBe('int $0x80');
    expect(decimalsToHex('movl $0x10, label12; fld %st(1); movl .L10, %eax')).toBe('movl $0x10, label12; fld %st(1); movl .L10, %eax');
    expect(decimalsToHex("movb $'9', %al; .ascii \"12\"; movl $017, %eax")).toBe("movb $'9', %al; .ascii \"12\"; movl $0xf, %eax");
    expect(decimalsToHex('jmp 1f; movl $0b1010, %eax; movl $18446744073709551615, %eax')).toBe(
      'jmp 1f; movl $0xa, %eax; movl $0xffffffffffffffff, %eax',
    );
  });
  it('character literals and comments survive', () => {
    expect(hex(assemble("movb $'a', %al", att))).toBe('b0 61');
    expect(hex(assemble("movb $';', %al # a comment; with a semicolon", att))).toBe('b0 3b');
    expect(hex(assemble("movb $':', %al; movb $'{', %bl", att))).toBe('b0 3a b3 7b');
    expect(hex(assemble("mov r0, #':'", arm))).toBe('3a 00 a0 e3');
    expect(hex(assemble('mov r0, #1 @ comment\n/* block */ mov r1, #2', arm))).toBe('01 00 a0 e3 02 10 a0 e3');
  });
  it('loaded quickly (reported, never asserted as a timing)', () => {
    expect(keystoneInitMs).toBeGreaterThan(0);
    console.info(`keystone wasm init + engines + self-check: ${keystoneInitMs.toFixed(1)} ms`);
  });
});

describe('branch targets are absolute', () => {
  it('arm b 0x8010 at 0x8000', () => {
    expect(hex(assembleOne('b 0x8010', { arch: 'arm', addr: 0x8000 }))).toBe('02 00 00 ea');
    expect(hex(assembleOne('bl 0x8010', { arch: 'arm', addr: 0x8000 }))).toBe('02 00 00 eb');
  });
  it('x86 jmp/call 0x1010 at 0x1000', () => {
    expect(hex(assembleOne('jmp 0x1010', { arch: 'x86', addr: 0x1000 }))).toBe('eb 0e');
    expect(hex(assembleOne('call 0x1010', { arch: 'x86', addr: 0x1000 }))).toBe('e8 0b 00 00 00');
    expect(hex(assembleOne('jmp 0x1010', { arch: 'x86', syntax: 'intel', addr: 0x1000 }))).toBe('eb 0e');
  });
  it('addresses advance through a multi-instruction source', () => {
    // jmp at 0x1000 (2 bytes), call at 0x1002 (5 bytes): both to 0x1010
    expect(hex(assemble('jmp 0x1010; call 0x1010', { arch: 'x86', addr: 0x1000 }))).toBe('eb 0e e8 09 00 00 00');
  });
  it('labels work inside one source', () => {
    expect(hex(assemble('foo: nop; jmp foo', att))).toBe('90 eb fd');
    expect(hex(assemble('jmp bar\nnop\nbar: nop', att))).toBe('eb 01 90 90');
  });
  it('out-of-range targets are errors, not wrong branches', () => {
    expect(asmError(() => assembleOne('bl 0x4000000', { arch: 'arm', addr: 0 })).reason).toMatch(/out of range/);
    expect(asmError(() => assembleOne('cbz r0, 0x9100', { arch: 'thumb', addr: 0x8000 })).reason).toMatch(/out of range/);
    expect(asmError(() => assembleOne('b 0x2000000', { arch: 'thumb', addr: 0x8000 })).message).toMatch(/b 0x2000000/);
    expect(asmError(() => assembleOne('jmp 0x100001000', { arch: 'x86', addr: 0x1000 })).reason).toMatch(/32-bit/);
  });
});

describe('errors are AsmErrors naming the instruction', () => {
  it('malformed input names the instruction and Keystone\'s reason', () => {
    const e = asmError(() => assemble('mov r7, #120; bogus r1; svc #0', arm));
    expect(e.insn).toBe('bogus r1');
    expect(e.message).toBe('cannot assemble "bogus r1": Invalid mnemonic (KS_ERR_ASM_MNEMONICFAIL)');
    expect(asmError(() => assemble('movl $1, %eax\nmovl %eax,, %ebx', att)).insn).toBe('movl %eax,, %ebx');
    expect(asmError(() => assemble('ldr r0, [r1', arm)).reason).toMatch(/KS_ERR_ASM/);
  });
  it('"assembled to 0 bytes" is an error, alone or in the middle of a source', () => {
    for (const src of ['int $256', 'movl %eax, $1', 'nop; int $256; nop']) {
      const e = asmError(() => assemble(src, att));
      expect(e.reason).toMatch(/0 bytes/);
      expect(e.insn).not.toMatch(/nop/);
    }
    expect(asmError(() => assemble('stmdb sp!, {r0-r12}^', arm)).reason).toMatch(/0 bytes/);
    expect(asmError(() => assemble('.word 0x12345678', att)).reason).toMatch(/0 bytes/);
  });
  it('an unknown symbol blames the statement that uses it, not one using a label defined elsewhere', () => {
    expect(asmError(() => assemble('jmp baz', att)).reason).toMatch(/SYMBOL_MISSING/);
    expect(asmError(() => assemble('jmp bar; nop; bogus; bar: nop', att)).insn).toBe('bogus');
  });
  it('assembleOne takes exactly one instruction', () => {
    expect(asmError(() => assembleOne('nop; nop', att)).reason).toMatch(/exactly one instruction, found 2/);
    expect(asmError(() => assembleOne('', att)).reason).toMatch(/found 0/);
    expect(hex(assembleOne('  mov r7, #120  ', arm))).toBe('78 70 a0 e3');
  });
  it('a Thumb IT instruction and its block are one unit', () => {
    expect(hex(assembleOne('it eq\nmoveq r0, #1', thumb))).toBe('08 bf 01 20');
    expect(hex(assembleOne('ite ne; movne r0, #1; moveq r0, #2', thumb))).toBe('14 bf 01 20 02 20');
    expect(hex(assembleOne('it eq\nbeq 0x8010', { arch: 'thumb', addr: 0x7ffe }))).toBe('08 bf 06 e0');
    expect(hex(assembleOne('it eq', thumb))).toBe('08 bf');
    expect(asmError(() => assembleOne('it eq; moveq r0, #1; movs r1, #2', thumb)).reason).toMatch(/found 2/);
    expect(asmError(() => assemble('movs r0, #0; it eq; moveq r0, #1; bogus r1', thumb)).insn).toBe('bogus r1');
  });
  it('x86 prefixes count as part of their instruction', () => {
    expect(hex(assembleOne('lock cmpxchgl %ecx, (%edx)', att))).toBe('f0 0f b1 0a');
    expect(hex(assemble('rep movsl; rep stosb', att))).toBe('f3 a5 f3 aa');
  });
  it('a bad address is a RangeError', () => {
    expect(() => assemble('nop', { arch: 'x86', addr: -1 })).toThrow(RangeError);
    expect(() => assemble('nop', { arch: 'x86', addr: 2 ** 32 })).toThrow(RangeError);
  });
});

describe('inputs that hang or crash raw Keystone are refused quickly', () => {
  // Each of these never returns from raw keystone-js 0.9.2 (found by fuzzing).
  const hangs: [string, object][] = [
    ['%eax', att],
    [',', att],
    ['(((', att],
    ['nop; %eax', att],
    ['movl :, %eax', att],
    ['movl %eax { *', att],
    ['cmp $foo{*', intel],
    ['.byte %eax', att],
    ['.byte 1, *', arm],
    ['x = pc ?', arm],
    ['mov :, pc', arm],
    ['.align 09', att],
    ['.org 0x10000000', att],
    ['.space 100000000', arm],
    ['.align 30', arm],
  ];
  it.each(hangs)('%s', (src, opts) => {
    const e = asmError(() => assemble(src, opts as typeof att));
    expect(e.message).toMatch(/^cannot assemble "/);
  });
  it('a large source does not overflow the wasm stack', () => {
    const src = 'nop\n'.repeat(30000);
    expect(assemble(src, att).length).toBe(30000);
    expect(assemble('mov r0, #1\n'.repeat(20000), arm).length).toBe(80000);
    expect(hex(assemble('movl $-8192,%eax', att))).toBe('b8 00 e0 ff ff');
  });
  it('non-ASCII and control characters are refused', () => {
    expect(asmError(() => assemble('mov r0, #1\u0000', arm)).reason).toMatch(/control character/);
    expect(asmError(() => assemble('mov r0, #１', arm)).reason).toMatch(/ASCII/);
  });
});

describe('data, literals and labels', () => {
  it('ARM literal pools go after the code', () => {
    expect(hex(assemble('ldr r0, =0x01200011; mov r1, #0; mov r7, #120; svc #0', { arch: 'arm', addr: 0x10000 }))).toBe(
      '08 00 9f e5 00 10 a0 e3 78 70 a0 e3 00 00 00 ef 11 00 20 01',
    );
  });
  it('data and alignment directives', () => {
    expect(hex(assemble('.ascii "ab"; .asciz "c"; .byte -1; .short 10; .long 0x12345678', att))).toBe('61 62 63 00 ff 0a 00 78 56 34 12');
    expect(hex(assemble('nop; .align 4; nop', arm))).toBe('00 f0 20 e3 '.repeat(5).trim());
    expect(asmError(() => assemble('.section .data', att)).reason).toMatch(/not supported here/);
  });
  it('empty source assembles to nothing', () => {
    expect(assemble('', att).length).toBe(0);
    expect(assemble(' ; \n # only a comment', att).length).toBe(0);
  });
});
