// The time system calls (kernel/time/posix-timers.c, hrtimer.c, time.c), for
// 32-bit user space: struct timespec is {s32 tv_sec; s32 tv_nsec}, struct
// timeval {s32 tv_sec; s32 tv_usec}. The clocks are defined in time/clock.ts.
// Bad pointers give -EFAULT, bad clocks or timespecs -EINVAL; nothing reaches
// the host.

import type { Kernel } from '../kernel.js';
import { syscallHandlers } from '../kernel.js';
import type { KGen } from '../kfunc.js';
import type { Task } from '../task.js';
import { ktime_get, ktime_get_real_ts, NSEC_PER_SEC, NSEC_PER_USEC, ns_to_timespec, realtime_to_monotonic, timespec_to_ns, ktime_add_safe } from '../time/clock.js';
import { task_cputime, thread_group_cputime } from '../time/cputime.js';
import { hrtimer_nanosleep, hrtimer_nanosleep_restart, take_restart_block } from '../time/hrtimer.js';

const EINTR = -4, EFAULT = -14, EINVAL = -22, EOPNOTSUPP = -95;

// include/uapi/linux/time.h
export const CLOCK_REALTIME = 0, CLOCK_MONOTONIC = 1, CLOCK_PROCESS_CPUTIME_ID = 2, CLOCK_THREAD_CPUTIME_ID = 3,
  CLOCK_MONOTONIC_RAW = 4, CLOCK_BOOTTIME = 7;
export const TIMER_ABSTIME = 0x01;

/** The clocks the model has (posix_clocks[]): the rest, coarse and alarm clocks included, are -EINVAL. */
const CLOCKS = new Set([CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID, CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME]);

/** k_clock.clock_get for one clock, as a timespec. */
function clock_get(k: Kernel, t: Task, which: number): { sec: number; nsec: number } {
  switch (which) {
    case CLOCK_REALTIME: return ktime_get_real_ts(k);
    case CLOCK_PROCESS_CPUTIME_ID: return ns_to_timespec(thread_group_cputime(k, t));
    case CLOCK_THREAD_CPUTIME_ID: return ns_to_timespec(task_cputime(t));
    default: return ns_to_timespec(ktime_get(k)); // MONOTONIC, MONOTONIC_RAW, BOOTTIME: one clock here
  }
}

/** get_old_timespec32: null on a bad pointer. */
function get_timespec32(k: Kernel, t: Task, uaddr: number): { sec: number; nsec: number } | null {
  const sec = k.mm.getUser32(t.mm, uaddr);
  const nsec = sec === null ? null : k.mm.getUser32(t.mm, uaddr + 4);
  return sec === null || nsec === null ? null : { sec: sec | 0, nsec: nsec | 0 };
}

/** put_old_timespec32 (also used for timeval and struct timezone: two 32-bit words). */
function put_pair32(k: Kernel, t: Task, uaddr: number, a: number, b: number): boolean {
  return k.mm.putUser32(t.mm, uaddr, a) && k.mm.putUser32(t.mm, uaddr + 4, b);
}

/** timespec64_valid: tv_sec ≥ 0 and 0 ≤ tv_nsec < 1e9. */
function timespec_valid(ts: { sec: number; nsec: number }): boolean {
  return ts.sec >= 0 && ts.nsec >= 0 && ts.nsec < NSEC_PER_SEC;
}

function def(name: string, h: (k: Kernel, t: Task, args: number[]) => KGen<number>): void {
  syscallHandlers.set(name, h);
}

def('clock_gettime', (k, t, [which, tp]) =>
  (function* () {
    if (!CLOCKS.has(which! | 0)) return EINVAL;
    const ts = clock_get(k, t, which!);
    return put_pair32(k, t, tp!, ts.sec, ts.nsec) ? 0 : EFAULT;
  })(),
);

// hrtimer_resolution is 1 ns (high-resolution mode); the CPU-time clocks are CPUCLOCK_SCHED ones: 1 ns too.
def('clock_getres', (k, t, [which, tp]) =>
  (function* () {
    if (!CLOCKS.has(which! | 0)) return EINVAL;
    if (!tp) return 0;
    return put_pair32(k, t, tp, 0, 1) ? 0 : EFAULT;
  })(),
);

def('gettimeofday', (k, t, [tv, tz]) =>
  (function* () {
    if (tv) {
      const ts = ktime_get_real_ts(k);
      if (!put_pair32(k, t, tv, ts.sec, Math.floor(ts.nsec / NSEC_PER_USEC))) return EFAULT;
    }
    if (tz && !put_pair32(k, t, tz, 0, 0)) return EFAULT; // sys_tz: UTC, no DST
    return 0;
  })(),
);

// i386 only (ARM EABI has no time syscall).
def('time', (k, t, [tloc]) =>
  (function* () {
    const sec = ktime_get_real_ts(k).sec;
    if (tloc && !k.mm.putUser32(t.mm, tloc, sec)) return EFAULT;
    return sec;
  })(),
);

/** nanosleep: a relative sleep on CLOCK_MONOTONIC. */
def('nanosleep', (k, t, [rqtp, rmtp]) =>
  (function* () {
    const ts = get_timespec32(k, t, rqtp!);
    if (!ts) return EFAULT;
    if (!timespec_valid(ts)) return EINVAL;
    const expires = ktime_add_safe(ktime_get(k), timespec_to_ns(ts.sec, ts.nsec));
    return yield* k.call('hrtimer_nanosleep', hrtimer_nanosleep(k, t, expires, false, CLOCK_MONOTONIC, rmtp!));
  })(),
);

def('clock_nanosleep', (k, t, [which, flags, rqtp, rmtp]) =>
  (function* () {
    const clk = which! | 0;
    if (clk === CLOCK_THREAD_CPUTIME_ID || !CLOCKS.has(clk)) return EINVAL;
    // CPU-time sleeps (posix-cpu-timers) are not modelled; MONOTONIC_RAW has no nsleep in Linux either.
    if (clk === CLOCK_PROCESS_CPUTIME_ID || clk === CLOCK_MONOTONIC_RAW) return EOPNOTSUPP;
    const ts = get_timespec32(k, t, rqtp!);
    if (!ts) return EFAULT;
    if (!timespec_valid(ts)) return EINVAL;
    const abs = (flags! & TIMER_ABSTIME) !== 0;
    const expires = !abs
      ? ktime_add_safe(ktime_get(k), timespec_to_ns(ts.sec, ts.nsec))
      : clk === CLOCK_REALTIME
        ? realtime_to_monotonic(ts.sec, ts.nsec)
        : timespec_to_ns(ts.sec, ts.nsec);
    return yield* k.call('hrtimer_nanosleep', hrtimer_nanosleep(k, t, expires, abs, clk, abs ? 0 : rmtp!));
  })(),
);

/** restart_syscall: resume the sleep an interrupted nanosleep saved in restart_block; -EINTR if none. */
def('restart_syscall', (k, t) =>
  (function* () {
    const r = take_restart_block(t);
    if (!r) return EINTR; // do_no_restart_syscall
    return yield* k.call('hrtimer_nanosleep_restart', hrtimer_nanosleep_restart(k, t, r));
  })(),
);
