// The hang guards and statement classification (src/cpu/keystone/guards.ts, statement.ts),
// without Keystone: what is refused, and what Keystone is told to expect.
import { describe, expect, it } from 'vitest';
import { checkDirective, checkOperands, isSimpleExpr } from '../../src/cpu/keystone/guards.js';
import { classify, parse } from '../../src/cpu/keystone/statement.js';
import { AsmError } from '../../src/cpu/keystone/types.js';

describe('isSimpleExpr', () => {
  it.each(['1', '-1', '(1+2)*3', 'foo + 4', "'a' << 2", '~0x10 | 0b11', '- -1', '!x'])('accepts %s', (e) => {
    expect(isSimpleExpr(e)).toBe(true);
  });
  it.each(['', '1 +', '(1', '1)', '1 2', '%eax', '*', '1 ? 2', '()'])('refuses "%s"', (e) => {
    expect(isSimpleExpr(e)).toBe(false);
  });
});

describe('checkDirective', () => {
  const d = (s: string, arch: 'arm' | 'x86' = 'arm') => {
    const [word, ...rest] = s.split(' ');
    return checkDirective(s, word!, rest.join(' '), arch);
  };
  it('says whether the directive must emit bytes', () => {
    expect([d('.byte 1, 2'), d('.byte'), d('.ascii ""'), d('.ascii "a"'), d('.asciz ""'), d('.align 2')]).toEqual([
      true,
      false,
      false,
      true,
      true,
      false,
    ]);
  });
  it('caps sizes: .space at 1 MiB, power-of-two alignment at 2^12, byte alignment at 4096', () => {
    expect(d('.space 0x100000')).toBe(false);
    expect(() => d('.space 0x100001')).toThrow(/too large/);
    expect(d('.align 12')).toBe(false);
    expect(() => d('.align 13')).toThrow(/too large/);
    expect(d('.align 4096', 'x86')).toBe(false);
    expect(() => d('.balign 4097', 'x86')).toThrow(/too large/);
    expect(() => d('.p2align 13', 'x86')).toThrow(/too large/);
  });
  it('alignment and space take plain numbers only', () => {
    expect(d('.align 010')).toBe(false);
    for (const s of ['.align', '.align 09', '.align 0b10', '.align 1+1', '.space 1, 2, 3, 4']) {
      expect(() => d(s), s).toThrow(/plain numbers/);
    }
  });
  it('refuses other directives and malformed arguments', () => {
    expect(() => d('.section .data')).toThrow(/not supported/);
    expect(() => d('.ascii abc')).toThrow(/quoted strings, not 'abc'/);
    expect(() => d('.word 1,')).toThrow(/simple expressions, not ""/);
  });
});

describe('checkOperands', () => {
  const ok = (rest: string, arch: 'arm' | 'x86') => expect(() => checkOperands('insn', rest, arch), rest).not.toThrow();
  const bad = (rest: string, arch: 'arm' | 'x86') => expect(() => checkOperands('insn', rest, arch), rest).toThrow(AsmError);
  it('x86: a colon only after a segment register; no braces outside character literals', () => {
    ok('%gs:0x10, %eax', 'x86');
    ok('eax, dword ptr gs:[0x10]', 'x86');
    ok("$':', %al", 'x86');
    ok("$'{', %al", 'x86');
    bad('foo:0x10, %eax', 'x86');
    bad('%eax {', 'x86');
  });
  it('ARM: a colon only in #:lower16:/#:upper16: and [rN:align]', () => {
    ok('r0, #:lower16:sym', 'arm');
    ok('{d0}, [r0:128]', 'arm');
    ok("r0, #':'", 'arm');
    bad('r0, :', 'arm');
    bad('r0, #:foo:sym', 'arm');
  });
});

describe('classify', () => {
  it('counts labels and x86 prefixes as Keystone counts statements', () => {
    expect(classify('a: b: lock rep movsb', 'x86', 'att')).toMatchObject({ labels: 2, kind: 'instruction', ksCount: 5, mustEmit: true });
    expect(classify('lbl:', 'arm', 'intel')).toMatchObject({ labels: 1, kind: 'label', ksCount: 1, mustEmit: false });
  });
  it('rewrites decimals for AT&T only', () => {
    expect(classify('x = 12', 'x86', 'att')).toMatchObject({ kind: 'assignment', ks: 'x = 0xc', text: 'x = 12' });
    expect(classify('x = 12', 'x86', 'intel').ks).toBe('x = 12');
    expect(classify('mov r0, #12', 'arm', 'intel').ks).toBe('mov r0, #12');
  });
  it('refuses what hangs Keystone, naming the statement', () => {
    for (const s of ['%eax', 'a:: nop', 'x = pc ?', 'nop\u0001', 'nop é']) {
      expect(() => classify(s, 'x86', 'att'), s).toThrow(AsmError);
    }
  });
  it('parse picks the comment character and validates the syntax', () => {
    expect(parse('nop # x\nnop', { arch: 'x86' }).map((s) => s.text)).toEqual(['nop', 'nop']);
    expect(parse('mov r0, #1 @ x', { arch: 'arm' }).map((s) => s.text)).toEqual(['mov r0, #1']);
    expect(() => parse('nop', { arch: 'x86', syntax: 'foo' as 'att' })).toThrow(TypeError);
  });
});
