// The system calls the model implements, registered by their syscall.tbl names.
// Arguments arrive as the entry asm saved them in pt_regs; a negative return is -errno.

import { PAGE_SIZE } from '../../arch/types.js';
import { do_execve } from '../exec.js';
import { do_exit, do_group_exit } from '../exit.js';
import { CLONE_VFORK, CLONE_VM, _do_fork } from '../fork.js';
import { futex_wait, futex_wake } from '../futex.js';
import { syscallHandlers, type Kernel, type SyscallHandler } from '../kernel.js';
import type { KGen } from '../kfunc.js';
import { SCHEDULE } from '../kfunc.js';
import { TASK_INTERRUPTIBLE, TASK_RUNNING } from '../layout.js';
import { _NSIG_MODEL, ERESTARTNOHAND, send_signal, signal_pending, SIGCHLD } from '../signal.js';
import type { Task } from '../task.js';
import { do_wait } from '../wait.js';
import { VM_EXEC, VM_READ, VM_SHARED, VM_WRITE } from '../mm/mm.js';
import './time.js'; // clock_gettime, nanosleep, clock_nanosleep, … (syscalls/time.ts)
import './tls.js';
import './rseq.js';

const EFAULT = -14, EBADF = -9, EINVAL = -22, ESRCH = -3, ENOSYS = -38;

function def(name: string, h: SyscallHandler): void {
  syscallHandlers.set(name, h);
}
function* value(v: number): KGen<number> {
  return v;
}

def('getpid', (_k, t) => value(t.tgid));
def('gettid', (_k, t) => value(t.pid));
def('getppid', (k, t) => value(k.task(k.task(t.v.get('group_leader')).v.get('real_parent')).tgid));
for (const n of ['getuid', 'getgid', 'geteuid', 'getegid', 'getuid32', 'getgid32', 'geteuid32', 'getegid32']) def(n, () => value(0));

def('write', (k, t, [fd, buf, count]) =>
  (function* () {
    const files = t.v.get('files');
    if (fd! > 15 || !files || !k.fdTarget(t, fd!)) return EBADF;
    const data = k.mm.copyFromUser(t.mm, buf!, count!);
    if (!data) return EFAULT;
    const target = k.fdTarget(t, fd!)!;
    k.output.push({ fd: target, data });
    k.onWrite(target, data);
    return count!;
  })(),
);

def('exit', (k, t, [code]) => k.call('do_exit', do_exit(k, t, (code! & 0xff) << 8)));
def('exit_group', (k, t, [code]) => k.call('do_group_exit', do_group_exit(k, t, (code! & 0xff) << 8)));

def('brk', (k, t, [brk]) =>
  (function* () {
    const mm = k.mm.mm(t.mm);
    const start = mm.get('start_brk');
    const cur = mm.get('brk');
    if (brk! < start) return cur;
    const oldEnd = Math.ceil(cur / PAGE_SIZE) * PAGE_SIZE;
    const newEnd = Math.ceil(brk! / PAGE_SIZE) * PAGE_SIZE;
    if (newEnd > oldEnd) {
      try {
        k.mm.insertVma(t.mm, oldEnd, newEnd, VM_READ | VM_WRITE);
      } catch {
        return cur;
      }
    }
    mm.set('brk', brk!);
    return brk!;
  })(),
);

// mmap2 (offset in pages): anonymous private/shared mappings only — no files here.
const MAP_SHARED = 0x01, MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20, PROT_WRITE = 0x2, PROT_EXEC = 0x4, ENOMEM = -12;
def('mmap2', (k, t, [addr, len, prot, flags]) =>
  (function* () {
    if (!len || !(flags! & MAP_ANONYMOUS)) return !len ? EINVAL : -19; // ENODEV: no file-backed mappings
    const size = Math.ceil(len! / PAGE_SIZE) * PAGE_SIZE;
    const vmFlags = VM_READ | (prot! & PROT_WRITE ? VM_WRITE : 0) | (prot! & PROT_EXEC ? VM_EXEC : 0) | (flags! & MAP_SHARED ? VM_SHARED : 0);
    let start: number;
    if (flags! & MAP_FIXED) {
      if (addr! % PAGE_SIZE) return EINVAL;
      start = addr!;
    } else {
      // get_unmapped_area, bottom-up from mmap_base: the first hole that fits.
      start = k.mm.mm(t.mm).get('mmap_base');
      for (const v of k.mm.vmas(t.mm)) {
        if (v.get('vm_end') <= start) continue;
        if (v.get('vm_start') >= start + size) break;
        start = v.get('vm_end');
      }
    }
    try {
      k.mm.insertVma(t.mm, start, start + size, vmFlags);
    } catch {
      return ENOMEM;
    }
    yield* k.step('do_mmap', `anonymous VMA 0x${start.toString(16)}-0x${(start + size).toString(16)} (pages arrive on first touch)`);
    return start;
  })(),
);

def('set_tid_address', (_k, t, [tidptr]) => {
  t.v.set('clear_child_tid', tidptr!);
  return value(t.pid);
});

def('uname', (k, t, [buf]) =>
  (function* () {
    const fields = ['Linux', 'trapdoor', '3.18.0-trapdoor', '#1 SMP trapdoor model', k.arch.cpu.name === 'arm' ? 'armv7l' : 'i686', '(none)'];
    const out = new Uint8Array(65 * 6);
    fields.forEach((f, i) => out.set(new TextEncoder().encode(f), 65 * i));
    return k.mm.copyToUser(t.mm, buf!, out) ? 0 : EFAULT;
  })(),
);

// CLONE_BACKWARDS (ARM and i386): flags, newsp, parent_tidptr, tls, child_tidptr.
def('clone', (k, _t, [flags, newsp, ptid, tls, ctid]) =>
  _do_fork(k, { flags: flags!, stack: newsp!, parentTid: ptid!, tls: tls!, childTid: ctid! }),
);
def('fork', (k) => _do_fork(k, { flags: SIGCHLD, stack: 0, parentTid: 0, tls: 0, childTid: 0 }));
def('vfork', (k) => _do_fork(k, { flags: CLONE_VFORK | CLONE_VM | SIGCHLD, stack: 0, parentTid: 0, tls: 0, childTid: 0 }));

def('wait4', (k, t, [pid, status, options, rusage]) => k.call('do_wait', do_wait(k, t, pid! | 0, status!, options!, rusage!)));
def('waitpid', (k, t, [pid, status, options]) => k.call('do_wait', do_wait(k, t, pid! | 0, status!, options!, 0)));

def('execve', (k, t, [path, argvp, envpp]) =>
  (function* () {
    const p = k.mm.strncpyFromUser(t.mm, path!);
    if (p === null) return EFAULT;
    const strs = (vec: number): string[] | null => {
      const out: string[] = [];
      for (let i = 0; vec && i < 256; i++) {
        const ptr = k.mm.getUser32(t.mm, vec + 4 * i);
        if (ptr === null) return null;
        if (!ptr) break;
        const s = k.mm.strncpyFromUser(t.mm, ptr);
        if (s === null) return null;
        out.push(s);
      }
      return out;
    };
    const argv = strs(argvp!);
    const envp = strs(envpp!);
    if (!argv || !envp) return EFAULT;
    return yield* k.call('do_execve', do_execve(k, t, p, argv.length ? argv : [p], envp));
  })(),
);

def('pause', (k, t) =>
  (function* () {
    yield* k.step('sys_pause', `pid ${t.pid} sleeps until a signal arrives`);
    while (!signal_pending(t)) {
      t.state = TASK_INTERRUPTIBLE;
      yield SCHEDULE;
    }
    t.state = TASK_RUNNING;
    return ERESTARTNOHAND; // a handler would make it EINTR; without one, pause() is restarted
  })(),
);

def('sched_yield', () =>
  (function* () {
    yield SCHEDULE;
    return 0;
  })(),
);

def('kill', (k, t, [pid, sig]) => value(kill(k, t, pid! | 0, sig!)));
def('tgkill', (k, t, [, pid, sig]) => value(kill(k, t, pid! | 0, sig!)));

function kill(k: Kernel, _t: Task, pid: number, sig: number): number {
  if (sig < 0 || sig > _NSIG_MODEL) return EINVAL; // (Linux: 64; real-time signals are not modelled)
  const target = k.pidHash.get(pid);
  if (!target || pid <= 0) return ESRCH;
  if (sig === 0) return 0;
  send_signal(k, target, sig);
  return 0;
}

def('futex', (k, t, [uaddr, op, val]) => {
  const cmd = op! & 0x7f;
  if (cmd === 0) return k.call('futex_wait', futex_wait(k, t, uaddr!, val!));
  if (cmd === 1) return value(futex_wake(k, t.mm, uaddr!, val!));
  return value(ENOSYS);
});
def('set_robust_list', (_k, t, [head, len]) => {
  if (len !== 12) return value(EINVAL);
  t.v.set('robust_list', head!);
  return value(0);
});

