// Timekeeping (kernel/time/timekeeping.c, reduced): the one definition of
// virtual time in the model.
//
//   CLOCK_MONOTONIC = guest instructions retired + nanoseconds skipped while idle
//
// One guest instruction takes 1 ns: the model's CPU is a 1 GHz in-order core.
// The C-level kernel (TypeScript) costs no time; its entry/return asm does,
// since it is guest code. When no task can run, the CPU "sleeps" until the
// next hrtimer (NO_HZ idle, see hrtimer.ts) and the clock jumps to that
// expiry: those skipped nanoseconds are the only time not made of
// instructions. Both terms are deterministic, so the same run reads the same
// clock at the same instruction.
//
//   CLOCK_BOOTTIME = CLOCK_MONOTONIC_RAW = CLOCK_MONOTONIC (no suspend, no NTP)
//   CLOCK_REALTIME = BOOT_EPOCH + CLOCK_MONOTONIC (a fixed wall-clock boot time)
//
// Times are JS numbers of ns, exact up to 2^53 ns (about 104 days); later
// expiries clamp to KTIME_MAX, as Linux clamps to 2^63 - 1.

import type { Kernel } from '../kernel.js';

export const NSEC_PER_USEC = 1_000;
export const NSEC_PER_SEC = 1_000_000_000;
/** The largest ktime the model holds exactly (Linux: KTIME_MAX = 2^63 - 1). */
export const KTIME_MAX = Number.MAX_SAFE_INTEGER;

/** Wall-clock time at boot: 2024-01-01T00:00:00Z, in seconds since the Unix epoch. Fixed for determinism. */
export const BOOT_EPOCH_SEC = 1_704_067_200;

/** struct timekeeper, reduced to the one quantity that is not an instruction count. */
export class Timekeeper {
  /** Nanoseconds the clock jumped forward while the CPU idled (NO_HZ idle). */
  idleSkipped = 0;
}

/** ktime_get: CLOCK_MONOTONIC in ns — instructions retired plus time skipped while idle. */
export function ktime_get(k: Kernel): number {
  return k.cpu.retired + k.timekeeper.idleSkipped;
}

/**
 * ktime_get_real_ts64: CLOCK_REALTIME as a timespec. Kept as (sec, nsec)
 * because wall-clock ns (~1.7e18) are beyond a JS number's exact range.
 */
export function ktime_get_real_ts(k: Kernel): { sec: number; nsec: number } {
  const ts = ns_to_timespec(ktime_get(k));
  return { sec: ts.sec + BOOT_EPOCH_SEC, nsec: ts.nsec };
}

/** A CLOCK_REALTIME timespec as CLOCK_MONOTONIC ns (what an absolute REALTIME timer expires at); before boot → 0. */
export function realtime_to_monotonic(sec: number, nsec: number): number {
  if (sec < BOOT_EPOCH_SEC) return 0;
  return timespec_to_ns(sec - BOOT_EPOCH_SEC, nsec);
}

/** The CPU idles until `expires` (ns of CLOCK_MONOTONIC): the clock jumps there. Never goes backwards. */
export function timekeeping_skip_idle(k: Kernel, expires: number): void {
  const now = ktime_get(k);
  if (expires > now) k.timekeeper.idleSkipped += expires - now;
}

/** ktime_add_safe: a sum that saturates at KTIME_MAX instead of losing precision. */
export function ktime_add_safe(a: number, b: number): number {
  const s = a + b;
  return s > KTIME_MAX ? KTIME_MAX : s;
}

/** A timespec as (sec, nsec) → ns, saturating at KTIME_MAX (ktime_set / timespec64_to_ktime). */
export function timespec_to_ns(sec: number, nsec: number): number {
  if (sec >= Math.floor(KTIME_MAX / NSEC_PER_SEC)) return KTIME_MAX;
  return ktime_add_safe(sec * NSEC_PER_SEC, nsec);
}

/** ns → (tv_sec, tv_nsec), floor division so tv_nsec is in [0, 1e9). */
export function ns_to_timespec(ns: number): { sec: number; nsec: number } {
  const sec = Math.floor(ns / NSEC_PER_SEC);
  return { sec, nsec: ns - sec * NSEC_PER_SEC };
}
