// The three seed snippets run on the emulated CPUs, with exact register state.
// Bytes come from the assembler wrapper, whose own output is checked against GNU as
// in test/cpu/asm-golden.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { assemble } from '../../src/cpu/keystone/index.js';
import { assembleProgram } from '../../src/machine/gas/index.js';

/** ARM text with `ldr rX, =value` needs a literal pool: the GNU-as front end lays it out. */
const armText = (src: string, addr: number) => assembleProgram(src, { arch: 'arm', textAddr: addr }).sections[0]!.bytes;
import { Machine } from '../../src/machine/machine.js';
import { archCpu } from '../../src/arch/index.js';

let m: Machine | undefined;
afterEach(() => {
  m?.close();
  m = undefined;
});

describe('seed snippets', () => {
  it('(a) ARM glibc fork stub: traps at svc with r0 = 0x01200011, r7 = 120, pc past the svc', () => {
    m = new Machine(archCpu('arm'));
    const code = armText('ldr r0, =0x01200011; mov r1, #0; mov r7, #120; svc #0', 0x10000);
    m.load(0x10000, code);
    const stop = m.run({ from: 0x10000 });
    expect(stop.kind).toBe('trap');
    const svcAddr = 0x10000 + 12;
    expect(m.reg('r0')).toBe(0x01200011);
    expect(m.reg('r1')).toBe(0);
    expect(m.reg('r7')).toBe(120);
    expect(m.pc).toBe(svcAddr + 4);
    expect(stop).toEqual({ kind: 'trap', intno: 2, pc: svcAddr + 4 });
  });

  it('(b) x86 GET_THREAD_INFO: movl $-8192,%eax; andl %esp,%eax finds the 8 KiB stack base', () => {
    m = new Machine(archCpu('x86'));
    const code = assemble('movl $-8192,%eax; andl %esp,%eax', { arch: 'x86', syntax: 'att', addr: 0x1000 });
    expect(Array.from(code)).toEqual([0xb8, 0x00, 0xe0, 0xff, 0xff, 0x21, 0xe0]);
    m.load(0x1000, code);
    const base = 0x6000; // 8 KiB aligned
    for (const esp of [base, base + 4, base + 0x1000, base + 0x1ffc, base + 8191]) {
      m.setReg('esp', esp);
      const stop = m.run({ from: 0x1000 });
      expect(stop.kind).toBe('end');
      expect(m.reg('eax')).toBe(base);
      expect(m.reg('esp')).toBe(esp);
    }
  });

  it('(c) x86 getpid: movl $20,%eax; int $0x80 traps with eax = 20', () => {
    m = new Machine(archCpu('x86'));
    const code = assemble('movl $20,%eax; int $0x80', { arch: 'x86', syntax: 'att', addr: 0x1000 });
    m.load(0x1000, code);
    const stop = m.run({ from: 0x1000 });
    expect(stop).toEqual({ kind: 'trap', intno: 0x80, pc: 0x1000 + code.length });
    expect(m.reg('eax')).toBe(20);
  });
});

describe('bad programs stop cleanly', () => {
  it('a jump to unmapped memory is a fault, and the machine keeps working', () => {
    m = new Machine(archCpu('arm'), { ramSize: 1 << 20 });
    m.load(0x1000, armText('ldr r0, =0xdead0000; bx r0', 0x1000));
    const stop = m.run({ from: 0x1000 });
    expect(stop.kind).toBe('fault');
    if (stop.kind === 'fault') {
      expect(stop.access).toBe('fetch');
      expect(stop.address).toBe(0xdead0000);
    }
    m.load(0x2000, assemble('mov r0, #7', { arch: 'arm', addr: 0x2000 }));
    expect(m.run({ from: 0x2000, until: 0x2004 }).kind).toBe('end');
    expect(m.reg('r0')).toBe(7);
  });

  it('a runaway loop stops at its budget with the exact instruction count', () => {
    m = new Machine(archCpu('x86'));
    m.load(0x1000, assemble('incl %eax; jmp 0x1000', { arch: 'x86', syntax: 'att', addr: 0x1000 }));
    m.setReg('eax', 0);
    const before = m.cpu.retired;
    const stop = m.run({ from: 0x1000, budget: 1001 });
    expect(stop.kind).toBe('budget');
    expect(m.cpu.retired - before).toBe(1001);
    expect(m.reg('eax')).toBe(501); // inc, jmp, inc, … : 501 incs in 1001 instructions
  });

  it('single-steps one instruction at a time', () => {
    m = new Machine(archCpu('arm'));
    m.load(0x1000, assemble('mov r0, #1; mov r1, #2; add r2, r0, r1', { arch: 'arm', addr: 0x1000 }));
    m.setReg('pc', 0x1000);
    expect(m.step()).toEqual({ kind: 'step', pc: 0x1004 });
    expect(m.reg('r0')).toBe(1);
    expect(m.reg('r1')).toBe(0);
    m.step();
    m.step();
    expect(m.reg('r2')).toBe(3);
  });
});
