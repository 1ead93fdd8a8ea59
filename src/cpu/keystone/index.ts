// The assembler: a synchronous wrapper around Keystone (@alexaltea/keystone-js, wasm).
//
//   assemble('movl $-8192,%eax; andl %esp,%eax', { arch: 'x86' })   -> b8 00 e0 ff ff 21 e0
//   assembleOne('mov r7, #120', { arch: 'arm', addr: 0x8000 })       -> 78 70 a0 e3
//
// Keystone 0.9.2 has traps; this package exists to keep them away from the rest of trapdoor.
// Every one of them was measured on this package (test/cpu/keystone.test.ts keeps them
// fixed, and test/cpu/asm-golden.test.ts compares the bytes with GNU as). Each module
// explains the trap it keeps shut:
//
//   engines.ts       THE RADIX BUG (one engine per arch/syntax, ks_option on AT&T only) and
//                    WASM CRASHES (source in malloc'd memory; a trap reloads the instance)
//   radix.ts         THE RADIX BUG for AT&T: decimal, octal and binary literals -> hex
//   startup.ts       proves the radix guard at import, or refuses to load
//   guards.ts        HANGS: input shapes that send Keystone into an infinite loop
//   statement.ts     source -> guarded, classified statements (lex.ts: literals, splitting)
//   assemble.ts      SILENT SUCCESS: statements counted, "assembled to 0 bytes" is an error
//   branch-check.ts  WRONG BRANCHES: numeric targets re-decoded with Capstone
//
// BRANCH TARGETS ARE ABSOLUTE (measured): with `addr` = the address of the first
// instruction, a numeric branch target is an absolute address, exactly as in GNU as:
//   arm  `b 0x8010` at 0x8000          -> 02 00 00 ea   (pc+8+2*4 = 0x8010)
//   x86  `jmp 0x1010` at 0x1000        -> eb 0e         (0x1002+0x0e)
//   x86  `call 0x1010` at 0x1000       -> e8 0b 00 00 00 (0x1005+0x0b)
// so a front-end can substitute label addresses as numbers and call assembleOne with the
// instruction's own address.

export { ASM_ARCHES, ASM_SYNTAXES, AsmError, type AsmArch, type AsmOptions, type AsmSyntax } from './types.js';
export { assemble, assembleOne } from './assemble.js';
export { decimalsToHex } from './radix.js';
export { keystoneInitMs } from './startup.js';
