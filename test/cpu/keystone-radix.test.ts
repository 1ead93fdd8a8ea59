// The AT&T radix rewrite's edge cases (src/cpu/keystone/radix.ts); the common cases and
// the bytes they assemble to are in keystone.test.ts.
import { describe, expect, it } from 'vitest';
import { decimalsToHex } from '../../src/cpu/keystone/radix.js';

describe('decimalsToHex', () => {
  it('leaves single digits and hex as written', () => {
    expect(decimalsToHex('movl $9, %eax; movl $0X1F, %eax; movl $0xff, %eax')).toBe('movl $9, %eax; movl $0X1F, %eax; movl $0xff, %eax');
  });
  it('rewrites longer decimals and 0-prefixed octal, even a zero', () => {
    expect(decimalsToHex('movl $10, %eax; movl $00, %eax; movl $0777, %eax')).toBe('movl $0xa, %eax; movl $0x0, %eax; movl $0x1ff, %eax');
  });
  it('leaves tokens that are no GNU number (08, local labels 2b) to Keystone', () => {
    expect(decimalsToHex('movl $08, %eax; jmp 2b; jmp 10f')).toBe('movl $08, %eax; jmp 2b; jmp 10f');
  });
  it('skips registers, including %st(N) with spaces, and identifiers with digits or $', () => {
    expect(decimalsToHex('fld %st(1); fld %ST( 2 ); fstp %st')).toBe('fld %st(1); fld %ST( 2 ); fstp %st');
    expect(decimalsToHex('movl %mm1, %eax; movl %cr0, 16(%ebp)')).toBe('movl %mm1, %eax; movl %cr0, 0x10(%ebp)');
    expect(decimalsToHex('movl foo$12, %eax; .L10: jmp .L10')).toBe('movl foo$12, %eax; .L10: jmp .L10');
  });
  it('skips strings with escaped quotes and escaped character literals', () => {
    expect(decimalsToHex('.ascii "a\\"12"; movb $\'\\\'\', %al; movl $12, %eax')).toBe(
      '.ascii "a\\"12"; movb $\'\\\'\', %al; movl $0xc, %eax',
    );
    expect(decimalsToHex('.ascii "12')).toBe('.ascii "12');
  });
  it('rewrites expressions and negative numbers', () => {
    expect(decimalsToHex('.long 100*2-(16<<1)')).toBe('.long 0x64*2-(0x10<<1)');
  });
});
