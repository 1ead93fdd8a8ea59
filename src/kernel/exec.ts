// fs/exec.c, reduced: execve of an image from the kernel's initramfs (programs
// assembled by trapdoor). A new mm gets a VMA per section and a stack with
// argv, envp and the aux vector; the old mm is released (which completes a
// vfork parent's wait); start_thread points pt_regs at the entry.

import { PAGE_SIZE } from '../arch/types.js';
import type { AsmProgram } from '../machine/gas/index.js';
import type { Kernel } from './kernel.js';
import type { KGen } from './kfunc.js';
import { PF_FORKNOEXEC, PF_KTHREAD } from './layout.js';
import { mm_release } from './exit.js';
import { VM_EXEC, VM_GROWSDOWN, VM_READ, VM_WRITE } from './mm/mm.js';
import type { Task } from './task.js';

export const STACK_TOP = 0xbf000000;
const STACK_SIZE = 128 * 1024;
const ENOENT = -2;

const pageUp = (x: number) => Math.ceil(x / PAGE_SIZE) * PAGE_SIZE;

export function* do_execve(k: Kernel, t: Task, path: string, argv: string[], envp: string[]): KGen<number> {
  const img: AsmProgram | undefined = k.initramfs.get(path);
  if (!img) return ENOENT;
  yield* k.step('do_execve', `execve("${path}"): ${img.arch} image, entry 0x${img.entry.toString(16)}`);
  const mm = k.mm.mmAlloc();
  const m = k.mm.mm(mm);
  let end = 0;
  for (const s of img.sections) {
    if (s.size === 0 && s.bytes.length === 0) continue; // an empty .data/.bss needs no VMA
    const flags = (s.read ? VM_READ : 0) | (s.write ? VM_WRITE : 0) | (s.exec ? VM_EXEC : 0);
    const start = ((s.addr & ~(PAGE_SIZE - 1)) >>> 0);
    const stop = pageUp(s.addr + Math.max(s.size, 1));
    k.mm.insertVma(mm, start, stop, flags);
    end = Math.max(end, stop);
    if (s.exec) {
      m.set('start_code', s.addr);
      m.set('end_code', s.addr + s.size);
    } else if (s.write && !m.get('start_data')) {
      m.set('start_data', s.addr);
      m.set('end_data', s.addr + s.size);
    }
  }
  // Contents are written before the VMAs' final protections matter: populate maps pages writable-by-kernel.
  for (const s of img.sections) if (s.bytes.length) k.mm.populate(mm, s.addr, s.bytes);
  m.set('start_brk', end);
  m.set('brk', end);
  k.mm.insertVma(mm, STACK_TOP - STACK_SIZE, STACK_TOP, VM_READ | VM_WRITE | VM_GROWSDOWN);
  // The initial stack: strings at the top, then auxv, envp, argv, argc.
  const enc = new TextEncoder();
  const strings: number[] = [];
  let sp = STACK_TOP - 16;
  const random = (sp -= 16); // AT_RANDOM: 16 fixed bytes (determinism)
  k.mm.populate(mm, random, Uint8Array.from({ length: 16 }, (_, i) => (i * 37 + 11) & 0xff));
  for (const s of [...argv, ...envp]) {
    const b = enc.encode(s + '\0');
    sp -= b.length;
    k.mm.populate(mm, sp, b);
    strings.push(sp);
  }
  sp = (sp & ~15) >>> 0;
  const auxv = [6, PAGE_SIZE, 25, random, 0, 0]; // AT_PAGESZ, AT_RANDOM, AT_NULL
  const words = [argv.length, ...strings.slice(0, argv.length), 0, ...strings.slice(argv.length), 0, ...auxv];
  sp -= 4 * words.length;
  sp = (sp & ~7) >>> 0;
  const w = new Uint8Array(4 * words.length);
  const dv = new DataView(w.buffer);
  words.forEach((x, i) => dv.setUint32(4 * i, x >>> 0, true));
  k.mm.populate(mm, sp, w);
  m.set('start_stack', sp);
  yield* k.step('do_execve', `new mm 0x${mm.toString(16)}: ${k.mm.vmas(mm).length} VMAs, stack pointer 0x${sp.toString(16)}`);

  // exec_mmap: release the old mm (a vfork parent wakes here), switch to the new one.
  const old = t.mm;
  const activeMm = t.v.get('active_mm');
  yield* k.call('mm_release', mm_release(k, t));
  t.v.set('mm', mm);
  t.v.set('active_mm', mm);
  k.currentPgd = k.mm.pgdPa(mm);
  k.ops.switchMm(k.currentPgd);
  if (old) k.mm.mmput(old);
  else if (activeMm) k.mm.mmdrop(activeMm); // a kernel thread gives back the mm it borrowed
  t.v.set('flags', t.flags & ~(PF_FORKNOEXEC | PF_KTHREAD));
  if (!k.execs.has(path)) k.execs.set(path, t.pid);
  t.v.setString('comm', path.split('/').pop()!.slice(0, 15));
  k.arch.startThread(k.mem, k.ptRegsPa(t), img.entry, sp);
  yield* k.step('start_thread', `pt_regs: pc = 0x${img.entry.toString(16)}, sp = 0x${sp.toString(16)}`);
  return 0;
}
