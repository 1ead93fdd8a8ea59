// The i386 entry path on a real Unicorn CPU: entry_32.S assembled by the gas front
// end, page tables from pgtable.ts walked by a TLB-fill hook that enforces the
// user/kernel split with ops.isUserMode(), and the TypeScript "hardware" of ops.ts.
//
//   user `int $0x80` → trapEntry → system_call (SAVE_ALL, GET_THREAD_INFO) → gate
//   → gateReturn → restore_all → irq_return (hardware stop) → user, eax = result
//
// plus ret_from_fork / switch_to between two tasks, -ENOSYS for a bad number, TLS
// through a real GDT descriptor, and user access to kernel memory being refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Unicorn } from '../../../src/cpu/unicorn.js';
import { UC, X86_REG } from '../../../src/cpu/uc-consts.js';
import { assembleProgram, type AsmProgram } from '../../../src/machine/gas/index.js';
import { StructView, type PhysMem } from '../../../src/machine/struct.js';
import { x86KernelArch as arch, type X86CpuOps } from '../../../src/arch/x86/index.js';
import { PAGE_OFFSET, THREAD_SIZE } from '../../../src/arch/types.js';

const KBASE = 0xc0100000;
const GATE_NI = 0xc0110000; // sys_ni_syscall
const GATE_TAIL = 0xc0110004; // schedule_tail
const GATE_SCHEDULE = 0xc0110008; // schedule (work_pending)
const GATE_NOTIFY = 0xc011000c; // do_notify_resume (work_pending)
const GATE_IRQ = 0xc0110010; // do_IRQ (common_interrupt)
const GATE_SYS = 0xc0111000; // sys_call_table[nr] = GATE_SYS + 4 * nr
const GATE_END = 0xc0112000;
const TABLE = 0xc0118000;
const NR = 436;
const PGD = 0x200000;
const USER_CODE = 0x08048000;
const USER_CODE_PA = 0x400000;
const USER_DATA = 0x0804a000;
const USER_DATA_PA = 0x402000;
const USER_STACK_TOP = 0xc0000000 - 0x10;
const USER_STACK_PA = 0x401000;
const THREAD_OFF = 0x100; // where this test's "task_struct" keeps `thread`
const A = { taskPa: 0x300000, tiPa: 0x304000, threadPa: 0x300000 + THREAD_OFF };
const B = { taskPa: 0x300400, tiPa: 0x306000, threadPa: 0x300400 + THREAD_OFF };
// uc_emu_start's `until`: never executed, but it must lie in a page the TLB hook
// translates in kernel mode. After a stop Unicorn looks up the translation block at
// `until` (measured: the page of until - 1) to discard it; a refused lookup makes
// uc_emu_start return UC_ERR_EXCEPTION (see the last test). The last page of RAM
// in lowmem is mapped kernel-only and holds no code.
const FAR = 0xc0fff000;

const va = (pa: number) => (pa + PAGE_OFFSET) >>> 0;
const regsPa = (t: { tiPa: number }) => t.tiPa + THREAD_SIZE - 68;
const kstackTop = (t: { tiPa: number }) => va(t.tiPa + THREAD_SIZE);

const USER_SRC = `
	.text
_start:
	movl $0x11111111, %ebx
	movl $0x22222222, %ecx
	movl $0x33333333, %edx
	movl $0x44444444, %esi
	movl $0x55555555, %edi
	movl $0x66666666, %ebp
	movl $20, %eax			# getpid
	int $0x80
after_getpid:
	pushl %eax			# the user stack is writable
	popl %eax
	movl $999, %eax			# no such syscall
	int $0x80
after_badsys:
	movl $120, %eax			# clone: the test forks by hand
	int $0x80
after_clone:
	testl %eax, %eax
	jnz parent
child:
	movl $20, %eax
	int $0x80			# the child traps; the test switches back to the parent
child_after:
	nop
parent:
	movl $0x33, %eax		# GDT entry 6, RPL 3: the TLS descriptor
	movw %ax, %gs
	movl %gs:4, %ecx		# reads USER_DATA + 4
after_tls:
	movl $20, %eax
	int $0x80			# SAVE_ALL pushes %gs, RESTORE_REGS pops it
after_tls_syscall:
	movl %gs:4, %edx
after_tls2:
	movl 0xc0100000, %eax		# kernel memory: refused in user mode
after_kread:
	movl $20, %eax
	int $0x80
after_last:
	nop
`;

let cpu: Unicorn;
let mem: PhysMem;
let ops: X86CpuOps;
let image: AsmProgram;
let user: AsmProgram;
let pending: { gate?: number; intr?: number } = {};
let lastFault: number | null = null;
/** User memory through the test's page table, with user rights (what the kernel's copy_from_user gives the arch). */
const userMem = {
  read(v: number, len: number): Uint8Array | null {
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) {
      const pte = arch.pgtable.walk(mem, PGD, (v + i) >>> 0);
      if (!pte || !pte.prot.user) return null;
      out[i] = mem.u8[pte.pa]!;
    }
    return out;
  },
  write: () => false,
};
const sym = (n: string): number => {
  const v = image.symbols.get(n);
  if (v === undefined) throw new Error(`no symbol ${n}`);
  return v;
};
const usym = (n: string) => user.symbols.get(n)!;
const reg = (id: number) => cpu.regRead(id);
const R = X86_REG;

type Stop = { kind: 'gate'; addr: number } | { kind: 'intr'; intno: number } | { kind: 'iret' } | { kind: 'until' } | { kind: 'error'; rc: number };

function run(until = FAR): Stop {
  pending = {};
  const rc = cpu.emuStart(reg(R.EIP), until, 10_000);
  if (pending.gate !== undefined) return { kind: 'gate', addr: pending.gate };
  if (pending.intr !== undefined) return { kind: 'intr', intno: pending.intr };
  if (rc !== 0) return { kind: 'error', rc };
  if (reg(R.EIP) === sym('irq_return')) return { kind: 'iret' };
  return { kind: 'until' };
}

/** Runs the kernel path until it is back in user mode (answering gates with `answer`). */
function kernelUntilUser(answer: (gate: number) => number): void {
  for (let i = 0; i < 10; i++) {
    const s = run();
    if (s.kind === 'gate') {
      const ret = ops.gateEnter();
      ops.gateReturn(answer(s.addr), ret);
      continue;
    }
    expect(s.kind).toBe('iret');
    ops.completeHardwareStop(reg(R.EIP));
    expect(ops.isUserMode()).toBe(true);
    return;
  }
  throw new Error('kernel did not return to user mode');
}

function ptRegs(t: { tiPa: number }): StructView {
  return new StructView(mem, arch.layouts.pt_regs, regsPa(t));
}

function prelude(): string {
  return [
    ...Object.entries(arch.asmOffsets()).map(([n, v]) => `.equ ${n}, ${v}`),
    `.equ sys_call_table, 0x${TABLE.toString(16)}`,
    `.equ NR_syscalls, ${NR}`,
    `.equ sys_ni_syscall, 0x${GATE_NI.toString(16)}`,
    `.equ schedule_tail, 0x${GATE_TAIL.toString(16)}`,
    `.equ schedule, 0x${GATE_SCHEDULE.toString(16)}`,
    `.equ do_notify_resume, 0x${GATE_NOTIFY.toString(16)}`,
    `.equ do_IRQ, 0x${GATE_IRQ.toString(16)}`,
  ].join('\n');
}

beforeAll(() => {
  image = assembleProgram(`${prelude()}\n${arch.kernelSources().map((s) => s.text).join('\n')}`, { arch: 'x86', fileName: 'kernel', textAddr: KBASE });
  user = assembleProgram(USER_SRC, { arch: 'x86', fileName: 'user.S', textAddr: USER_CODE });

  cpu = new Unicorn('x86');
  mem = cpu.mapRam(16 << 20);
  for (const s of image.sections) mem.u8.set(s.bytes, s.addr - PAGE_OFFSET);
  for (let a = GATE_NI; a < GATE_END; a += arch.gateFill.length) mem.u8.set(arch.gateFill, a - PAGE_OFFSET);
  for (let nr = 0; nr < NR; nr++) mem.dv.setUint32(TABLE - PAGE_OFFSET + 4 * nr, GATE_SYS + 4 * nr, true);
  for (const s of user.sections) mem.u8.set(s.bytes, USER_CODE_PA + (s.addr - USER_CODE));
  mem.dv.setUint32(USER_DATA_PA + 4, 0xfeedf00d, true);

  let next = PGD + 0x1000;
  const alloc = () => ((next += 0x1000), next - 0x1000);
  arch.pgtable.initKernel(mem, PGD, mem.size, alloc, null);
  arch.pgtable.setPte(mem, PGD, USER_CODE, USER_CODE_PA, { user: true, write: false, exec: true }, alloc);
  arch.pgtable.setPte(mem, PGD, USER_DATA, USER_DATA_PA, { user: true, write: true, exec: false }, alloc);
  arch.pgtable.setPte(mem, PGD, (USER_STACK_TOP & ~0xfff) >>> 0, USER_STACK_PA, { user: true, write: true, exec: false }, alloc);

  for (const t of [A, B]) new StructView(mem, arch.layouts.thread_info, t.tiPa).set('task', va(t.taskPa));

  ops = arch.attach(cpu, mem, sym);
  cpu.setTlbMode('virtual');
  cpu.hookTlbFill((v, type) => {
    const pte = arch.pgtable.walk(mem, PGD, v);
    if (!pte) return null;
    lastFault = v;
    if (ops.isUserMode() && !pte.prot.user) return null; // the GDT too: see completeImplicitAccess
    if (type === UC.MEM_WRITE && !pte.prot.write) return null;
    lastFault = null;
    return { paddr: pte.pa - (v & 0xfff), perms: UC.PROT_READ | UC.PROT_EXEC | (pte.prot.write ? UC.PROT_WRITE : 0) };
  });
  cpu.hookCode(GATE_NI, GATE_END - 1, (addr) => {
    pending.gate = addr;
    cpu.emuStop();
  });
  for (const a of ops.hardwareStops) cpu.hookCode(a, a, () => cpu.emuStop());
  cpu.hookInterrupt((intno) => {
    pending.intr = intno;
    cpu.emuStop();
  });
  ops.switchMm(PGD);
});

afterAll(() => cpu?.close());

describe('entry_32.S', () => {
  it('GET_THREAD_INFO is exactly movl $-8192,%ebp; andl %esp,%ebp', () => {
    const text = image.sections[0]!;
    const lines = image.lines.filter((l) => l.addr >= sym('system_call') && l.addr < sym('syscall_call'));
    const i = lines.findIndex((l) => /movl \$-8192, %ebp/.test(l.text));
    expect(i).toBeGreaterThan(0);
    const at = lines[i]!.addr - text.addr;
    expect(Array.from(text.bytes.subarray(at, at + 7))).toEqual([0xbd, 0x00, 0xe0, 0xff, 0xff, 0x21, 0xe5]);
    expect(image.symbols.get('gdt_page')! % 4096).toBe(0);
    expect(ops.hardwareStops).toEqual([sym('irq_return')]);
    expect(mem.u8[sym('irq_return') - PAGE_OFFSET]).toBe(0xcf); // iret
  });
});

describe('the syscall round trip on Unicorn', () => {
  it('enters user mode for the first time through ret_from_fork (copy_thread + loadFirst)', () => {
    arch.startThread(mem, regsPa(A), usym('_start'), USER_STACK_TOP);
    arch.copyThread(mem, A, regsPa(A), 0, sym);
    ops.loadFirst(A);
    expect(ops.isUserMode()).toBe(false);
    expect(reg(R.EIP)).toBe(sym('ret_from_fork'));
    expect(reg(R.ESP)).toBe(va(regsPa(A)));
    const gates: number[] = [];
    kernelUntilUser((g) => (gates.push(g), 0));
    expect(gates).toEqual([GATE_TAIL]);
    expect(reg(R.EIP)).toBe(usym('_start'));
    expect(reg(R.ESP)).toBe(USER_STACK_TOP);
    expect(reg(R.DS)).toBe(0x7b); // popped by RESTORE_REGS: a real GDT selector
    expect(reg(R.ES)).toBe(0x7b);
    expect(reg(R.EFLAGS) & 0x200).toBe(0x200);
    expect(reg(R.SS)).toBe(0x68); // loaded once by attach(): a 32-bit stack segment
  });

  it('int $0x80 → system_call builds pt_regs, finds thread_info from %esp, calls the gate, returns 4242', () => {
    let s = run();
    expect(s).toEqual({ kind: 'intr', intno: 0x80 });
    expect(reg(R.EIP)).toBe(usym('after_getpid'));
    const userFlags = reg(R.EFLAGS);
    ops.trapEntry(kstackTop(A));
    expect(ops.isUserMode()).toBe(false);
    expect(reg(R.EIP)).toBe(sym('system_call'));
    s = run();
    expect(s).toEqual({ kind: 'gate', addr: GATE_SYS + 4 * 20 });
    // pt_regs from guest memory
    const r = ptRegs(A);
    expect(r.get('orig_ax')).toBe(20);
    expect(r.get('ax')).toBe(20);
    expect([r.get('bx'), r.get('cx'), r.get('dx'), r.get('si'), r.get('di'), r.get('bp')]).toEqual([
      0x11111111, 0x22222222, 0x33333333, 0x44444444, 0x55555555, 0x66666666,
    ]);
    expect(r.get('ip')).toBe(usym('after_getpid'));
    expect(r.get('cs')).toBe(0x73);
    expect(r.get('flags')).toBe(userFlags);
    expect(r.get('sp')).toBe(USER_STACK_TOP);
    expect(r.get('ss')).toBe(0x7b);
    expect([r.get('ds'), r.get('es'), r.get('fs'), r.get('gs')]).toEqual([0x7b, 0x7b, 0, 0]);
    // GET_THREAD_INFO(%ebp): the 8 KiB-aligned stack base; thread_info->task is the task
    expect(reg(R.EBP)).toBe(va(A.tiPa));
    expect(mem.dv.getUint32(reg(R.EBP) - PAGE_OFFSET, true)).toBe(va(A.taskPa));
    // the call pushed its return address just below pt_regs
    expect(reg(R.ESP)).toBe(va(regsPa(A)) - 4);
    const ret = ops.gateEnter();
    expect(ret).toBe(sym('syscall_call') + 7); // ff 14 85 <table>: call *table(,%eax,4)
    expect(reg(R.ESP)).toBe(va(regsPa(A)));
    ops.gateReturn(4242, ret);
    s = run();
    expect(s).toEqual({ kind: 'iret' });
    expect(ptRegs(A).get('ax')).toBe(4242);
    ops.completeHardwareStop(reg(R.EIP));
    expect(ops.isUserMode()).toBe(true);
    expect(reg(R.EIP)).toBe(usym('after_getpid'));
    expect(reg(R.EAX)).toBe(4242);
    expect([reg(R.EBX), reg(R.ECX), reg(R.EDX), reg(R.ESI), reg(R.EDI), reg(R.EBP)]).toEqual([
      0x11111111, 0x22222222, 0x33333333, 0x44444444, 0x55555555, 0x66666666,
    ]);
    expect(reg(R.ESP)).toBe(USER_STACK_TOP);
    expect(reg(R.EFLAGS)).toBe(userFlags);
  });

  it('a number >= NR_syscalls returns -ENOSYS without calling a gate', () => {
    expect(run()).toEqual({ kind: 'intr', intno: 0x80 });
    ops.trapEntry(kstackTop(A));
    kernelUntilUser(() => {
      throw new Error('no gate expected');
    });
    expect(reg(R.EIP)).toBe(usym('after_badsys'));
    expect(reg(R.EAX)).toBe(-38 >>> 0);
  });

  it('fork: copy_thread + switch_to run the child through ret_from_fork with eax 0, then back to the parent', () => {
    expect(run()).toEqual({ kind: 'intr', intno: 0x80 });
    ops.trapEntry(kstackTop(A));
    expect(run()).toEqual({ kind: 'gate', addr: GATE_SYS + 4 * 120 });
    const parentRet = ops.gateEnter();
    const parentKsp = reg(R.ESP);
    const parentEbp = reg(R.EBP);
    // copy_process: the child's pt_regs are a copy of the parent's
    mem.u8.copyWithin(regsPa(B), regsPa(A), regsPa(A) + 68);
    arch.copyThread(mem, B, regsPa(B), 0, sym);
    expect(ptRegs(B).get('ax')).toBe(0);
    // schedule(): the parent stops at the gate, the child runs first
    ops.switchTo(A, B, reg(R.EIP));
    expect(ops.current).toEqual(B);
    expect(reg(R.EIP)).toBe(sym('ret_from_fork'));
    expect(reg(R.ESP)).toBe(va(regsPa(B)));
    const tss = new StructView(mem, arch.layouts.thread_struct, B.threadPa);
    expect(tss.get('sp0')).toBe(kstackTop(B));
    const gates: number[] = [];
    kernelUntilUser((g) => (gates.push(g), 0));
    expect(gates).toEqual([GATE_TAIL]);
    expect(reg(R.EIP)).toBe(usym('after_clone'));
    expect(reg(R.EAX)).toBe(0); // the child's fork() returns 0
    expect(reg(R.ESP)).toBe(USER_STACK_TOP);
    expect(reg(R.EBX)).toBe(0x11111111);
    // the child makes a syscall on its own kernel stack…
    expect(run()).toEqual({ kind: 'intr', intno: 0x80 });
    expect(reg(R.EIP)).toBe(usym('child_after'));
    ops.trapEntry(kstackTop(B));
    expect(run()).toEqual({ kind: 'gate', addr: GATE_SYS + 4 * 20 });
    expect(reg(R.EBP)).toBe(va(B.tiPa));
    expect(ptRegs(B).get('ip')).toBe(usym('child_after'));
    ops.gateEnter();
    // …and sleeps: switch back to the parent, which resumes where it stopped
    ops.switchTo(B, A, reg(R.EIP));
    expect(reg(R.ESP)).toBe(parentKsp);
    expect(reg(R.EBP)).toBe(parentEbp);
    ops.gateReturn(2, parentRet); // fork() returns the child's pid in the parent
    kernelUntilUser(() => 0);
    expect(reg(R.EIP)).toBe(usym('after_clone'));
    expect(reg(R.EAX)).toBe(2);
  });

  it('TLS: set_tls fills GDT entry 6, and %gs:4 reads through it (also across a syscall)', () => {
    arch.setTls(mem, A, USER_DATA); // A is running: the GDT is reloaded at once
    // `movw %ax, %gs` in user mode: the CPU's descriptor read is refused by the TLB
    // hook like any user access to the GDT page, and the arch completes the load.
    lastFault = null;
    expect(run(usym('after_tls'))).toEqual({ kind: 'error', rc: UC.ERR_EXCEPTION });
    expect(lastFault).toBe(ops.gdtVa);
    expect(ops.completeImplicitAccess(lastFault!, userMem)).toBe(true);
    expect(reg(R.GS)).toBe(0x33);
    expect(run(usym('after_tls'))).toEqual({ kind: 'until' });
    expect(reg(R.GS)).toBe(0x33);
    expect(reg(R.ECX)).toBe(0xfeedf00d);
    expect(run()).toEqual({ kind: 'intr', intno: 0x80 });
    ops.trapEntry(kstackTop(A));
    expect(run()).toEqual({ kind: 'gate', addr: GATE_SYS + 4 * 20 });
    expect(ptRegs(A).get('gs')).toBe(0x33);
    ops.gateReturn(1, ops.gateEnter());
    kernelUntilUser(() => 0);
    expect(run(usym('after_tls2'))).toEqual({ kind: 'until' });
    expect(reg(R.EDX)).toBe(0xfeedf00d);
  });

  it('user mode cannot read kernel memory (the TLB fill refuses it)', () => {
    const s = run(usym('after_kread'));
    expect(s).toEqual({ kind: 'error', rc: UC.ERR_EXCEPTION });
    expect(reg(R.EIP)).toBe(usym('after_tls2'));
  });

  it('Unicorn pitfall (measured): an `until` the TLB hook refuses turns a clean stop into UC_ERR_EXCEPTION', () => {
    cpu.regWrite(R.EIP, usym('after_kread')); // skip the refused load
    expect(run()).toEqual({ kind: 'intr', intno: 0x80 });
    ops.trapEntry(kstackTop(A));
    pending = {};
    const rc = cpu.emuStart(reg(R.EIP), 0xfffffff0, 10_000); // nothing maps 0xfffff000
    expect(pending.gate).toBe(GATE_SYS + 4 * 20); // the gate hook did stop the CPU…
    expect(rc).toBe(UC.ERR_EXCEPTION); // …but the lookup of `until` failed afterwards
    ops.gateReturn(7, ops.gateEnter());
    kernelUntilUser(() => 0);
    expect(reg(R.EIP)).toBe(usym('after_last'));
    expect(reg(R.EAX)).toBe(7);
  });
});
