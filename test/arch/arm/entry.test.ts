// The real proof of the ARM entry path: an ARM Unicorn with guest page tables
// (built by armPgtable, obeyed through a TLB-fill hook that walks them) runs a
// user snippet whose `svc #0` goes through ops.trapEntry, the vectors page and
// entry.S's vector_swi into a gate, and back to user mode through
// ret_fast_syscall. Then fork's path: copyThread + switchTo + ret_from_fork.
import { afterEach, describe, expect, it } from 'vitest';
import { armKernelArch as arch } from '../../../src/arch/arm/index.js';
import { threadInfo, ptRegs } from '../../../src/arch/arm/layout.js';
import { cp15Read, TPIDRURO, TTBR0, type ArmCpuOps } from '../../../src/arch/arm/ops.js';
import { PAGE_OFFSET, THREAD_SIZE } from '../../../src/arch/types.js';
import { Unicorn } from '../../../src/cpu/unicorn.js';
import { ARM_REG, UC } from '../../../src/cpu/uc-consts.js';
import { assembleProgram } from '../../../src/machine/gas/index.js';
import { StructView, type PhysMem } from '../../../src/machine/struct.js';

const RAM = 8 << 20;
const PGD = 0x4000; // 16 KiB-aligned L1 table
const VECTORS_PA = 0x3000;
const GATE_VA = 0xc0018000; // gate page (within branch range of the image)
const TABLE_VA = 0xc001c000; // sys_call_table
const NR_SYSCALLS = 399;
const USER_CODE_VA = 0x00010000;
const USER_CODE_PA = 0x400000;
const USER_STACK_VA = 0xbefff000;
const USER_STACK_PA = 0x401000;
const TASK_PA = 0x500000;
const KSTACK_PA = 0x600000; // parent's 8 KiB stack; thread_info at its base
const CHILD_TASK_PA = 0x502000;
const CHILD_KSTACK_PA = 0x604000;

const GATES = { sys_getpid: GATE_VA, sys_ni_syscall: GATE_VA + 0x10, schedule_tail: GATE_VA + 0x20, arm_syscall: GATE_VA + 0x30, do_work_pending: GATE_VA + 0x40, asm_do_IRQ: GATE_VA + 0x50 };
const FAR = 0xfffffff0;
const va = (pa: number) => (pa + PAGE_OFFSET) >>> 0;

const R = ARM_REG;
const USER_REGS = [R.R0, R.R1, R.R2, R.R3, R.R4, R.R5, R.R6, R.R7, R.R8, R.R9, R.R10, R.R11, R.R12, R.SP, R.LR];

let cpu: Unicorn | undefined;
afterEach(() => {
  cpu?.close();
  cpu = undefined;
});

function prelude(): string {
  const lines = Object.entries(arch.asmOffsets()).map(([n, v]) => `.equ ${n}, ${v}`);
  lines.push(`.equ sys_call_table, 0x${TABLE_VA.toString(16)}`, `.equ NR_syscalls, ${NR_SYSCALLS}`);
  for (const g of ['sys_ni_syscall', 'schedule_tail', 'arm_syscall', 'do_work_pending', 'asm_do_IRQ'] as const) lines.push(`.equ ${g}, 0x${GATES[g].toString(16)}`);
  return lines.join('\n') + '\n';
}

function boot(userSource: string, opts: { thumb?: boolean } = {}) {
  const c = new Unicorn('arm', { cpuModel: UC.CPU_ARM_CORTEX_A15 });
  cpu = c;
  const ram = c.mapRam(RAM);
  const mem: PhysMem = ram;
  // Kernel image and vectors page, assembled like the kernel does.
  const image = assembleProgram(prelude() + arch.kernelSources().map((s) => s.text).join('\n'), { arch: 'arm', fileName: 'kernel', textAddr: arch.kernelBase });
  for (const s of image.sections) ram.u8.set(s.bytes, s.addr - PAGE_OFFSET);
  const sym = (n: string) => {
    const v = image.symbols.get(n) ?? (GATES as Record<string, number>)[n];
    if (v === undefined) throw new Error(`no symbol ${n}`);
    return v;
  };
  const vsrc = arch.vectorsSource()!;
  // Like the kernel: the vectors page sees every kernel symbol (vector_swi, __irq_usr, the asm-offsets).
  const vprelude = [...image.symbols].map(([n, v]) => `.equ ${n}, 0x${(v >>> 0).toString(16)}`).join('\n');
  const vectors = assembleProgram(`${vprelude}\n${vsrc.text}`, { arch: 'arm', fileName: vsrc.file, textAddr: 0xffff0000 });
  for (const s of vectors.sections) ram.u8.set(s.bytes, VECTORS_PA + (s.addr - 0xffff0000));
  // Gate page: udf everywhere; sys_call_table: entry 20 → sys_getpid gate, the rest → sys_ni_syscall.
  for (let a = GATE_VA; a < GATE_VA + 0x1000; a += arch.gateFill.length) ram.u8.set(arch.gateFill.subarray(0, 0x1000), a - PAGE_OFFSET);
  for (let nr = 0; nr < NR_SYSCALLS; nr++) ram.dv.setUint32(TABLE_VA - PAGE_OFFSET + 4 * nr, nr === 20 ? GATES.sys_getpid : GATES.sys_ni_syscall, true);

  // Page tables: kernel sections + vectors, a user code page and a user stack page.
  let nextTable = 0x300000;
  const alloc = () => ((nextTable += 0x1000), nextTable - 0x1000);
  arch.pgtable.initKernel(mem, PGD, RAM, alloc, VECTORS_PA);
  arch.pgtable.setPte(mem, PGD, USER_CODE_VA, USER_CODE_PA, { user: true, write: false, exec: true }, alloc);
  arch.pgtable.setPte(mem, PGD, USER_STACK_VA, USER_STACK_PA, { user: true, write: true, exec: false }, alloc);
  const user = assembleProgram(userSource, { arch: 'arm', fileName: 'user.S', textAddr: USER_CODE_VA });
  ram.u8.set(user.sections[0]!.bytes, USER_CODE_PA);

  // The MMU: TLB misses walk the tables; user mode may touch only user pages.
  c.setTlbMode('virtual');
  const ops = arch.attach(c, mem, sym) as ArmCpuOps;
  const faults: number[] = [];
  c.hookTlbFill((v, type) => {
    const pte = arch.pgtable.walk(mem, ops.pgd ?? PGD, v);
    const userMode = ops.isUserMode();
    const ok = pte && (!userMode || pte.prot.user) && (type !== UC.MEM_WRITE || pte.prot.write) && (type !== UC.MEM_FETCH || pte.prot.exec);
    if (!ok) {
      faults.push(v);
      return null;
    }
    // Unicorn hands over va aligned to its own TLB page (1 KiB on ARM, measured), so the
    // translation of va itself is the answer, not the 4 KiB page base.
    return { paddr: pte.pa, perms: UC.PROT_READ | (pte.prot.write ? UC.PROT_WRITE : 0) | (pte.prot.exec ? UC.PROT_EXEC : 0) };
  });
  let trap: number | null = null;
  let gate: number | null = null;
  c.hookInterrupt((intno) => {
    trap = intno;
    c.emuStop();
  });
  c.hookCode(GATE_VA, GATE_VA + 0xfff, (addr) => {
    gate = addr;
    c.emuStop();
  });
  ops.switchMm(PGD);

  // The task: task_struct (opaque here) and thread_info at the base of its kernel stack.
  const ti = new StructView(mem, threadInfo, KSTACK_PA);
  ti.set('task', va(TASK_PA));
  ti.set('addr_limit', 0xbf000000);

  // User mode: CPSR USR (banks switch), user sp.
  c.regWrite(R.CPSR, 0x10 | (opts.thumb ? 0x20 : 0));
  const run = (from: number, until = FAR) => {
    trap = null;
    gate = null;
    const rc = c.emuStart(from, until, 10_000);
    return { rc, trap: trap as number | null, gate: gate as number | null };
  };
  return { c, mem, ram, ops, image, vectors, user, sym, ti, run, faults };
}

const SNIPPET = `
        .text
        .global _start
_start:
        ldr     r0, =0x10101010
        ldr     r1, =0x11111111
        ldr     r2, =0x22222222
        ldr     r3, =0x33333333
        ldr     r4, =0x44444444
        ldr     r5, =0x55555555
        ldr     r6, =0x66666666
        ldr     r8, =0x88888888
        ldr     r9, =0x99999999
        ldr     r10, =0xaaaaaaaa
        ldr     r11, =0xbbbbbbbb
        ldr     r12, =0xcccccccc
        ldr     sp, =0xbefffff0
        ldr     lr, =0x0eeeeee0
        mov     r7, #20                 @ __NR_getpid
        svc     #0
after:
        svc     #0                      @ a second getpid (used by the fork test)
after2:
        b       after2
        .ltorg
`;

describe('arm kernel image', () => {
  it('entry.S and vectors.S assemble, with the kuser helpers at their fixed addresses', () => {
    const { image, vectors, ram } = boot(SNIPPET);
    for (const s of ['vector_swi', 'ret_fast_syscall', 'ret_from_fork', 'ret_to_user']) expect(image.symbols.has(s)).toBe(true);
    expect(vectors.symbols.get('__kuser_cmpxchg64')).toBe(0xffff0f60);
    expect(vectors.symbols.get('__kuser_memory_barrier')).toBe(0xffff0fa0);
    expect(vectors.symbols.get('__kuser_cmpxchg')).toBe(0xffff0fc0);
    expect(vectors.symbols.get('__kuser_get_tls')).toBe(0xffff0fe0);
    expect(vectors.symbols.get('__kuser_helper_version')).toBe(0xffff0ffc);
    expect(vectors.sections[0]!.size).toBe(0x1000);
    expect(ram.dv.getUint32(VECTORS_PA + 0xffc, true)).toBe(5); // helper version: 5 slots of 32 bytes
    expect(ram.dv.getUint32(VECTORS_PA + 0xfe0, true)).toBe(0xe59f0008); // ldr r0, [pc, #8]
    expect(ram.dv.getUint32(VECTORS_PA + 0x008, true) >>> 12).toBe(0xe59ff); // ldr pc, [pc, #…]
  });
});

describe('arm syscall entry and exit on Unicorn', () => {
  it('svc → trapEntry → vector_swi builds pt_regs, finds thread_info, dispatches; gateReturn → back to user', () => {
    const { c, mem, ops, run, sym, user } = boot(SNIPPET);
    const svcAddr = user.symbols.get('after')! - 4;

    // 1. User code runs until the svc traps (intno 2), pc past the svc, still in USR mode.
    let r = run(USER_CODE_VA);
    expect(r.trap).toBe(2);
    expect(c.regRead(R.PC)).toBe(svcAddr + 4);
    expect(ops.isUserMode()).toBe(true);
    const userRegs = c.regReadBatch(USER_REGS);
    const userCpsr = c.regRead(R.CPSR);

    // 2. The hardware part of the SWI exception, then the CPU runs the vectors page and vector_swi.
    const kstackTop = va(KSTACK_PA + THREAD_SIZE);
    ops.trapEntry(kstackTop);
    expect(ops.isUserMode()).toBe(false);
    expect(c.regRead(R.CPSR) & 0x1f).toBe(0x13);
    expect(c.regRead(R.SPSR)).toBe(userCpsr);
    expect(c.regRead(R.PC)).toBe(0xffff0008);
    r = run(c.regRead(R.PC));
    expect(r.gate).toBe(0xc0018000); // sys_call_table[20]

    // pt_regs at the top of the kernel stack hold the user registers.
    const regsPa = KSTACK_PA + THREAD_SIZE - ptRegs.size;
    const regs = new StructView(mem, ptRegs, regsPa);
    const names = ['ARM_r0', 'ARM_r1', 'ARM_r2', 'ARM_r3', 'ARM_r4', 'ARM_r5', 'ARM_r6', 'ARM_r7', 'ARM_r8', 'ARM_r9', 'ARM_r10', 'ARM_fp', 'ARM_ip', 'ARM_sp', 'ARM_lr'];
    expect(names.map((n) => regs.get(n))).toEqual(userRegs);
    expect(regs.get('ARM_pc')).toBe(svcAddr + 4);
    expect(regs.get('ARM_cpsr')).toBe(userCpsr);
    expect(regs.get('ARM_ORIG_r0')).toBe(0x10101010);
    expect(regs.get(arch.syscallRegs.nr)).toBe(20);
    // r4, r5 pushed below pt_regs (S_OFF) as the 5th and 6th C arguments; sp there.
    expect(c.regRead(R.SP)).toBe(va(regsPa) - 8);
    expect([mem.dv.getUint32(regsPa - 8, true), mem.dv.getUint32(regsPa - 4, true)]).toEqual([0x44444444, 0x55555555]);
    // get_thread_info: r9 = sp & ~8191 = the kernel stack base = thread_info; r10 = thread_info->task.
    expect(c.regRead(R.R9)).toBe(va(KSTACK_PA));
    expect(new StructView(mem, threadInfo, KSTACK_PA).get('task')).toBe(va(TASK_PA));
    expect(c.regRead(R.R10)).toBe(va(TASK_PA));
    expect(c.regRead(R.R7)).toBe(20);
    expect(c.regRead(R.R11)).toBe(0); // zero_fp
    // lr = ret_fast_syscall: where the sys_* routine returns.
    const ret = ops.gateEnter();
    expect(ret).toBe(sym('ret_fast_syscall'));

    // 3. The C function returns 4242: ret_fast_syscall restores the user registers and `movs pc, lr`.
    ops.gateReturn(4242, ret);
    r = run(c.regRead(R.PC), svcAddr + 4);
    expect(r.rc).toBe(0);
    expect(r.trap).toBeNull();
    expect(c.regRead(R.PC)).toBe(svcAddr + 4);
    expect(c.regRead(R.CPSR)).toBe(userCpsr);
    expect(ops.isUserMode()).toBe(true);
    expect(c.regReadBatch(USER_REGS)).toEqual([4242, ...userRegs.slice(1)]);
    expect(regs.get('ARM_r0')).toBe(4242); // pt_regs shows the result
    // SP_svc is back at the top of the stack for the next entry.
    c.regWrite(R.CPSR, 0x1d3);
    expect(c.regRead(R.SP)).toBe(kstackTop);
  });

  it('an unknown syscall number reaches sys_ni_syscall, an ARM-private one arm_syscall(no, regs)', () => {
    const src = (nr: string) => `
        .text
_start: ldr r7, =${nr}
        svc #0
        b .
        .ltorg
`;
    for (const [nr, gate] of [['500', GATES.sys_ni_syscall], ['0xf0005', GATES.arm_syscall]] as const) {
      const { c, ops, run, sym } = boot(src(nr));
      expect(run(USER_CODE_VA).trap).toBe(2);
      ops.trapEntry(va(KSTACK_PA + THREAD_SIZE));
      expect(run(c.regRead(R.PC)).gate).toBe(gate);
      expect(ops.gateEnter()).toBe(sym('ret_fast_syscall'));
      if (gate === GATES.arm_syscall) {
        expect(c.regRead(R.R0)).toBe(0xf0005); // no
        expect(c.regRead(R.R1)).toBe(va(KSTACK_PA + THREAD_SIZE - 72)); // regs
      }
      cpu!.close();
      cpu = undefined;
    }
  });

  it('Thumb user code: svc returns to the Thumb instruction after it', () => {
    const src = `
        .text
        .thumb
        .global _start
        .thumb_func
_start: movs r7, #20
        svc #0
after:  movs r1, #1
        b after
`;
    const { c, ops, run, user } = boot(src, { thumb: true });
    const after = user.symbols.get('after')!;
    expect(run(USER_CODE_VA | 1).trap).toBe(2);
    expect(c.regRead(R.PC)).toBe(after);
    ops.trapEntry(va(KSTACK_PA + THREAD_SIZE));
    expect(c.regRead(R.CPSR) & 0x20).toBe(0); // ARM state in the kernel
    expect(c.regRead(R.LR)).toBe(after);
    expect(run(c.regRead(R.PC)).gate).toBe(GATES.sys_getpid);
    ops.gateReturn(7, ops.gateEnter());
    const r = run(c.regRead(R.PC), after);
    expect(r.rc).toBe(0);
    expect(c.regRead(R.PC)).toBe(after);
    expect(c.regRead(R.CPSR) & 0x3f).toBe(0x30); // USR, Thumb
    expect(c.regRead(R.R0)).toBe(7);
  });

  it('user mode cannot read kernel memory (the TLB fill refuses it; it sees va & ~0x3ff)', () => {
    const src = `
        .text
_start: ldr r1, =0xc0008765
        ldr r0, [r1]
        b .
        .ltorg
`;
    const { c, run, faults } = boot(src);
    const r = run(USER_CODE_VA);
    expect(r.rc).toBe(UC.ERR_EXCEPTION);
    // Measured: the TLB-fill hook sees the address rounded down to Unicorn's 1 KiB ARM TLB page.
    expect(faults).toContain(0xc0008400);
    expect(c.regRead(R.PC)).toBe(USER_CODE_VA + 4);
  });

  it('fork: copyThread + switchTo run the child through ret_from_fork to user mode with r0 = 0, and back', () => {
    const { c, mem, ops, run, sym, user } = boot(SNIPPET);
    const after = user.symbols.get('after')!;
    const after2 = user.symbols.get('after2')!;
    const parent = { tiPa: KSTACK_PA, taskPa: TASK_PA, threadPa: TASK_PA + 0x100 };
    const child = { tiPa: CHILD_KSTACK_PA, taskPa: CHILD_TASK_PA, threadPa: CHILD_TASK_PA + 0x100 };
    arch.setTls(mem, parent, 0x1000);
    ops.loadFirst(parent); // makes parent current (its context is empty: we only want its TLS)
    expect(cp15Read(c, TPIDRURO)).toBe(0x1000);
    expect(mem.dv.getUint32(VECTORS_PA + 0xff0, true)).toBe(0x1000); // the kuser TLS word
    c.regWrite(R.CPSR, 0x10);

    // Parent: svc → vector_swi → gate.
    expect(run(USER_CODE_VA).trap).toBe(2);
    const userRegs = c.regReadBatch(USER_REGS);
    ops.trapEntry(va(KSTACK_PA + THREAD_SIZE));
    expect(run(c.regRead(R.PC)).gate).toBe(GATES.sys_getpid);
    const parentRet = ops.gateEnter();
    const parentSp = c.regRead(R.SP);

    // "do_fork": the child's thread_info (copied), pt_regs copied, copy_thread, its own TLS.
    mem.u8.copyWithin(CHILD_KSTACK_PA, KSTACK_PA, KSTACK_PA + threadInfo.size);
    new StructView(mem, threadInfo, CHILD_KSTACK_PA).set('task', va(CHILD_TASK_PA));
    const childRegsPa = CHILD_KSTACK_PA + THREAD_SIZE - ptRegs.size;
    mem.u8.copyWithin(childRegsPa, KSTACK_PA + THREAD_SIZE - ptRegs.size, KSTACK_PA + THREAD_SIZE);
    arch.copyThread(mem, child, childRegsPa, 0xbefff800, sym);
    arch.setTls(mem, child, 0x2000);
    const cctx = new StructView(mem, threadInfo, CHILD_KSTACK_PA);
    expect(cctx.get('cpu_context.pc')).toBe(sym('ret_from_fork'));
    expect(cctx.get('cpu_context.sp')).toBe(va(childRegsPa));

    // schedule(): switch to the child. The parent's callee-saved state goes to its cpu_context.
    const gatePc = c.regRead(R.PC);
    ops.switchTo(parent, child, gatePc);
    const pctx = new StructView(mem, threadInfo, KSTACK_PA);
    expect(pctx.get('cpu_context.sp')).toBe(parentSp);
    expect(pctx.get('cpu_context.pc')).toBe(gatePc);
    expect(pctx.get('cpu_context.r9')).toBe(va(KSTACK_PA));
    expect(c.regRead(R.PC)).toBe(sym('ret_from_fork'));
    expect(c.regRead(R.SP)).toBe(va(childRegsPa));
    expect(cp15Read(c, TPIDRURO)).toBe(0x2000);
    expect(mem.dv.getUint32(VECTORS_PA + 0xff0, true)).toBe(0x2000);

    // The child runs ret_from_fork: bl schedule_tail (a gate) …
    let r = run(c.regRead(R.PC));
    expect(r.gate).toBe(GATES.schedule_tail);
    ops.gateReturn(0, ops.gateEnter());
    // … then ret_to_user restores every user register from its pt_regs: r0 = 0, the new sp.
    r = run(c.regRead(R.PC), after);
    expect(r.rc).toBe(0);
    expect(ops.isUserMode()).toBe(true);
    expect(c.regRead(R.PC)).toBe(after);
    expect(c.regReadBatch(USER_REGS)).toEqual([0, ...userRegs.slice(1, 13), 0xbefff800, userRegs[14]]);

    // The child makes its second syscall and stops at its gate; switch back to the parent.
    expect(run(after).trap).toBe(2);
    ops.trapEntry(va(CHILD_KSTACK_PA + THREAD_SIZE));
    expect(run(c.regRead(R.PC)).gate).toBe(GATES.sys_getpid);
    expect(c.regRead(R.R9)).toBe(va(CHILD_KSTACK_PA)); // the child's thread_info, from its own sp
    expect(c.regRead(R.R10)).toBe(va(CHILD_TASK_PA));
    ops.switchTo(child, parent, c.regRead(R.PC));
    expect(c.regRead(R.SP)).toBe(parentSp);
    expect(c.regRead(R.PC)).toBe(gatePc);
    expect(cp15Read(c, TPIDRURO)).toBe(0x1000);
    // The parent's getpid returns 77 to the instruction after its svc.
    ops.gateReturn(77, parentRet);
    r = run(c.regRead(R.PC), after);
    expect(r.rc).toBe(0);
    expect(c.regReadBatch(USER_REGS)).toEqual([77, ...userRegs.slice(1)]);
    expect(after2).toBeGreaterThan(after);
  });

  it('user code calls the kuser helpers in the vectors page (get_tls, cmpxchg, helper version)', () => {
    const src = `
        .text
_start: mvn     r0, #0xf000             @ 0xffff0fff
        sub     r0, r0, #31             @ 0xffff0fe0: __kuser_get_tls, as glibc computes it
        blx     r0
        mov     r4, r0
        ldr     r2, =0xbeffff00
        mov     r1, #5
        str     r1, [r2]
        mov     r0, #5                  @ oldval
        mov     r1, #9                  @ newval
        ldr     r3, =0xffff0fc0         @ __kuser_cmpxchg(5, 9, ptr)
        blx     r3
        mov     r5, r0
        ldr     r6, [r2]
        mov     r0, #5                  @ again: *ptr is 9 now, so this one fails
        mov     r1, #7
        ldr     r3, =0xffff0fc0         @ (r3 is clobbered by the helper)
        blx     r3
        mov     r10, r0
        mrc     p15, 0, r8, c13, c0, 3  @ TPIDRURO, readable in user mode
        ldr     r3, =0xffff0ffc
        ldr     r9, [r3]                @ __kuser_helper_version
done:   b       done
        .ltorg
`;
    const { c, mem, ops, run, user } = boot(src);
    const task = { tiPa: KSTACK_PA, taskPa: TASK_PA, threadPa: TASK_PA + 0x100 };
    ops.loadFirst(task);
    arch.setTls(mem, task, 0xb6fff4c0); // set_tls on the running task: TPIDRURO and the kuser word at once
    c.regWrite(R.CPSR, 0x10);
    c.regWrite(R.SP, 0xbefffff0);
    const r = run(USER_CODE_VA, user.symbols.get('done')!);
    expect(r.rc).toBe(0);
    expect(r.trap).toBeNull();
    expect(c.regReadBatch([R.R4, R.R5, R.R6, R.R8, R.R9])).toEqual([0xb6fff4c0, 0, 9, 0xb6fff4c0, 5]);
    expect(c.regRead(R.R10)).not.toBe(0);
    expect(new StructView(mem, threadInfo, KSTACK_PA).get('tp_value')).toBe(0xb6fff4c0);
  });

  it('switchMm loads TTBR0', () => {
    const { c, ops } = boot(SNIPPET);
    ops.switchMm(0x8000);
    expect(cp15Read(c, TTBR0)).toBe(0x8000);
    expect(ops.pgd).toBe(0x8000);
  });
});
