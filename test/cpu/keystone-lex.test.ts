// Literals, statement and argument splitting, integer literals: the lexical layer under the
// radix rewrite and the guards (src/cpu/keystone/lex.ts).
import { describe, expect, it } from 'vitest';
import { gnuInt, literalEnd, splitArgs, splitStatements } from '../../src/cpu/keystone/lex.js';

describe('literalEnd', () => {
  it('ends strings at the closing quote, past escaped quotes', () => {
    expect(literalEnd('"a\\"b" x', 0)).toBe(6);
    expect(literalEnd('x "ab" y', 2)).toBe(6);
  });
  it("reads character literals as GNU as does: 'c', 'c and '\\n'", () => {
    expect(literalEnd("'a' x", 0)).toBe(3);
    expect(literalEnd("'a, x", 0)).toBe(2);
    expect(literalEnd("'\\n'", 0)).toBe(4);
  });
  it('runs an unclosed string to the end, or with stopAtNewline to its line end', () => {
    expect(literalEnd('"ab', 0)).toBe(4);
    expect(literalEnd('"a\nb"', 0)).toBe(5);
    expect(literalEnd('"a\nb"', 0, true)).toBe(3);
  });
  it('is null where no literal starts', () => {
    expect(literalEnd('x"a"', 0)).toBeNull();
  });
});

describe('splitStatements', () => {
  it('splits on ; and newlines, not inside literals, and drops x86 # comments', () => {
    expect(splitStatements('.ascii "a;b"; movb $\';\', %al # c;d\nnop', '#')).toEqual(['.ascii "a;b"', "movb $';', %al", 'nop']);
  });
  it('drops @ comments for ARM, where # is an immediate', () => {
    expect(splitStatements('mov r0, #1 @ c; d\nmov r1, #2 ; ; ', '@')).toEqual(['mov r0, #1', 'mov r1, #2']);
  });
  it('a block comment is a space, and ends the statement if it spans lines', () => {
    expect(splitStatements('nop /* z */ nop', '#')).toEqual(['nop   nop']);
    expect(splitStatements('nop /* x\ny */ nop', '#')).toEqual(['nop', 'nop']);
    expect(splitStatements('nop /* never closed', '#')).toEqual(['nop']);
  });
});

describe('splitArgs', () => {
  it('splits on commas outside literals and trims', () => {
    expect(splitArgs(' 1 , "a,b" , \',\' ')).toEqual(['1', '"a,b"', "','"]);
    expect(splitArgs("'\\'', 2")).toEqual(["'\\''", '2']);
  });
  it('no arguments is an empty list; an empty one is kept', () => {
    expect(splitArgs('')).toEqual([]);
    expect(splitArgs('1,')).toEqual(['1', '']);
  });
});

describe('gnuInt', () => {
  it('reads hex, binary, 0-prefixed octal and decimal', () => {
    expect([gnuInt('0'), gnuInt('00'), gnuInt('017'), gnuInt('0b101'), gnuInt('0X1F'), gnuInt('4096')]).toEqual([0n, 0n, 15n, 5n, 31n, 4096n]);
    expect(gnuInt('18446744073709551615')).toBe(0xffffffffffffffffn);
  });
  it('is null for anything else (08 is no octal, 1f is a local label)', () => {
    for (const t of ['08', '1f', '0x', '0b2', '', '-1', ' 1']) expect(gnuInt(t), t).toBeNull();
  });
});
