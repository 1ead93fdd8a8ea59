// kernel/time/hrtimer.c, reduced to one CPU and one clock base (CLOCK_MONOTONIC;
// REALTIME and BOOTTIME timers are converted to it when started, which is exact
// because neither clock can be set or suspended here).
//
// Active timers sit in a queue ordered by expiry; equal expiries fire in the
// order they were started. There is no timer hardware: the dispatcher
// (entry.ts runKernel) makes expiry happen at the exact virtual time by
//   - capping each CPU run at hrtimer_insns_to_next_event() instructions and
//     calling hrtimer_interrupt() between runs (a timer expiring while a task
//     runs user code), and
//   - calling tick_nohz_idle() when nothing is runnable: the clock jumps to
//     the earliest expiry and the timer fires (NO_HZ idle).
// Callbacks run "in hard interrupt context": between two guest instructions,
// on behalf of whichever task is current; they must not sleep. The running
// task keeps the CPU (no preemption here; a tick can build on this later).

import { tick_nohz_restart } from './tick.js';
import type { TraceEvent } from '../../trace/events.js';
import type { Kernel } from '../kernel.js';
import type { KGen } from '../kfunc.js';
import { SCHEDULE } from '../kfunc.js';
import { TASK_INTERRUPTIBLE, TASK_RUNNING } from '../layout.js';
import { wake_up_process } from '../sched.js';
import { ERESTARTNOHAND, ERESTART_RESTARTBLOCK, signal_pending } from '../signal.js';
import type { Task } from '../task.js';
import { KTIME_MAX, ktime_add_safe, ktime_get, ns_to_timespec, timekeeping_skip_idle } from './clock.js';

export const HRTIMER_MODE_ABS = 0;
export const HRTIMER_MODE_REL = 1;

export interface Hrtimer {
  /** Number for traces (Linux prints the struct's address). */
  readonly id: number;
  /** Expiry in ns of CLOCK_MONOTONIC (the node's key in the timerqueue). */
  expires: number;
  /** Runs at expiry (HRTIMER_NORESTART: one shot). */
  readonly function: (k: Kernel, timer: Hrtimer) => void;
  readonly fnName: string;
  /** Start order, the tie-break between equal expiries. */
  seq: number;
  /** HRTIMER_STATE_ENQUEUED. */
  queued: boolean;
}

/** struct hrtimer_sleeper: the timer plus the task it wakes; task = null once it has fired. */
export interface HrtimerSleeper extends Hrtimer {
  task: Task | null;
}

/** struct hrtimer_clock_base, reduced: the timerqueue of active timers. */
export class HrtimerClockBase {
  /** Active timers, earliest first (ties in start order). */
  readonly active: Hrtimer[] = [];
  nextSeq = 0;
  nextId = 1;
}

/** hrtimer_init: a new inactive timer with its callback. */
export function hrtimer_init(k: Kernel, fn: Hrtimer['function'], fnName = fn.name || 'hrtimer_fn'): Hrtimer {
  return { id: k.hrtimers.nextId++, expires: 0, function: fn, fnName, seq: 0, queued: false };
}

function enqueue_hrtimer(base: HrtimerClockBase, timer: Hrtimer): void {
  let i = base.active.length;
  while (i > 0 && base.active[i - 1]!.expires > timer.expires) i--; // after every timer due no later: FIFO ties
  base.active.splice(i, 0, timer);
  timer.queued = true;
}

function remove_hrtimer(base: HrtimerClockBase, timer: Hrtimer): boolean {
  if (!timer.queued) return false;
  const i = base.active.indexOf(timer);
  if (i >= 0) base.active.splice(i, 1);
  timer.queued = false;
  return true;
}

/**
 * hrtimer_start: (re)arm a timer. ABS: `tim` is a CLOCK_MONOTONIC time; REL: ns
 * from now. An expiry already in the past fires at the next hrtimer_interrupt.
 */
export function hrtimer_start(k: Kernel, timer: Hrtimer, tim: number, mode: number): void {
  const base = k.hrtimers;
  remove_hrtimer(base, timer);
  timer.expires = mode === HRTIMER_MODE_REL ? ktime_add_safe(ktime_get(k), tim) : Math.min(tim, KTIME_MAX);
  timer.seq = base.nextSeq++;
  enqueue_hrtimer(base, timer);
  k.event('hrtimer_start', { hrtimer: timer.id, function: timer.fnName, expires: timer.expires, softexpires: timer.expires, mode: mode === HRTIMER_MODE_REL ? 'REL' : 'ABS' });
}

/** hrtimer_cancel: deactivate a timer; returns true if it was still active. Callbacks never run concurrently here. */
export function hrtimer_cancel(k: Kernel, timer: Hrtimer): boolean {
  if (!remove_hrtimer(k.hrtimers, timer)) return false;
  k.event('hrtimer_cancel', { hrtimer: timer.id });
  return true;
}

/** hrtimer_get_next_event: expiry of the earliest active timer, or null. */
export function hrtimer_get_next_event(k: Kernel): number | null {
  return k.hrtimers.active[0]?.expires ?? null;
}

/**
 * How many guest instructions the CPU may run before the earliest timer is
 * due (at least 1: due timers have fired by then); MAX_SAFE_INTEGER if none.
 * The dispatcher caps uc_emu_start with it.
 */
export function hrtimer_insns_to_next_event(k: Kernel): number {
  const next = hrtimer_get_next_event(k);
  if (next === null) return Number.MAX_SAFE_INTEGER;
  return Math.max(1, next - ktime_get(k));
}

/** __run_hrtimer: dequeue, then call the callback (trace: hrtimer_expire_entry / _exit). */
function __run_hrtimer(k: Kernel, timer: Hrtimer, now: number): void {
  remove_hrtimer(k.hrtimers, timer);
  k.event('hrtimer_expire_entry', { hrtimer: timer.id, now, function: timer.fnName });
  timer.function(k, timer);
  k.event('hrtimer_expire_exit', { hrtimer: timer.id });
}

/**
 * hrtimer_interrupt: run every timer whose expiry is ≤ now, earliest first.
 * The dispatcher calls it between CPU runs; cheap when nothing is due.
 * Returns how many timers fired.
 */
export function hrtimer_interrupt(k: Kernel): number {
  const q = k.hrtimers.active;
  if (!q.length || q[0]!.expires > ktime_get(k)) return 0;
  const now = ktime_get(k);
  let n = 0;
  while (q.length && q[0]!.expires <= now) {
    __run_hrtimer(k, q[0]!, now);
    n++;
  }
  return n;
}

/**
 * NO_HZ idle: nothing is runnable, so the CPU sleeps until the earliest timer —
 * the clock jumps to its expiry (the skipped ns are idle time) and it fires;
 * the periodic tick, stopped meanwhile, restarts from there.
 * Returns false, leaving the clock alone, if no timer is active: then the
 * system is idle for good.
 */
export function tick_nohz_idle(k: Kernel): boolean {
  const next = hrtimer_get_next_event(k);
  if (next === null) return false;
  trace_cpu_idle(k, 1);
  timekeeping_skip_idle(k, next);
  trace_cpu_idle(k, 4294967295); // PWR_EVENT_EXIT
  tick_nohz_restart(k);

  hrtimer_interrupt(k);
  return true;
}

/** The cpu_idle tracepoint, as swapper (pid 0) emits it. */
function trace_cpu_idle(k: Kernel, state: number): void {
  const fields: Record<string, number> = { state, cpu_id: 0 };
  k.emit({ t: 'event', name: 'cpu_idle', fields } as TraceEvent, k.initTask);
}

// ---- sleeping: hrtimer_sleeper and nanosleep --------------------------------

/** hrtimer_wakeup: the sleeper's callback — clear t->task (the sleep is over) and wake the task. */
function hrtimer_wakeup(k: Kernel, timer: Hrtimer): void {
  const s = timer as HrtimerSleeper;
  const task = s.task;
  s.task = null;
  if (task) wake_up_process(k, task);
}

/** hrtimer_init_sleeper: a timer that wakes `task` when it expires. */
export function hrtimer_init_sleeper(k: Kernel, task: Task): HrtimerSleeper {
  return Object.assign(hrtimer_init(k, hrtimer_wakeup, 'hrtimer_wakeup'), { task });
}

/** Virtual time for narration: "1.000002345 s". */
export function fmt_ktime(ns: number): string {
  const ts = ns_to_timespec(ns);
  return `${ts.sec}.${String(ts.nsec).padStart(9, '0')} s`;
}

/**
 * do_nanosleep: sleep TASK_INTERRUPTIBLE until the sleeper's timer fires or a
 * signal is pending. Returns true if the timer expired (t->task == NULL).
 * The timer is started after the narration point and right before schedule(),
 * so it cannot fire between the two and find the task still running.
 */
export function* do_nanosleep(k: Kernel, t: Task, timer: HrtimerSleeper, expires: number): KGen<boolean> {
  const now = ktime_get(k);
  yield* k.step('do_nanosleep', `pid ${t.pid} sleeps until t=${expires} ns (${fmt_ktime(expires)}; now ${now}, ${Math.max(0, expires - now)} ns from now)`);
  hrtimer_start(k, timer, expires, HRTIMER_MODE_ABS);
  while (timer.task && !signal_pending(t)) {
    t.state = TASK_INTERRUPTIBLE;
    yield SCHEDULE;
  }
  t.state = TASK_RUNNING;
  hrtimer_cancel(k, timer);
  return timer.task === null;
}

/** struct restart_block's nanosleep member: what restart_syscall resumes after a signal without a handler. */
export interface NanosleepRestart {
  readonly fn: 'hrtimer_nanosleep_restart';
  readonly clockid: number;
  /** CLOCK_MONOTONIC expiry: a restarted sleep ends at the same time, not later. */
  readonly expires: number;
  readonly rmtp: number;
}
const restartBlocks = new WeakMap<Task, NanosleepRestart>();

/** current_thread_info()->restart_block, taken (restart_syscall consumes it). */
export function take_restart_block(t: Task): NanosleepRestart | undefined {
  const r = restartBlocks.get(t);
  restartBlocks.delete(t);
  return r;
}

const EFAULT = -14;

/**
 * hrtimer_nanosleep: `expires` is already a CLOCK_MONOTONIC time (the caller
 * converts relative and REALTIME requests; `abs` says which the request
 * was). On a signal a relative sleep writes the remaining time to rmtp (if
 * given), saves a restart_block and returns -ERESTART_RESTARTBLOCK (do_signal
 * then restarts it through restart_syscall, to the same expiry); an absolute
 * one returns -ERESTARTNOHAND (restarted as it was).
 */
export function* hrtimer_nanosleep(k: Kernel, t: Task, expires: number, abs: boolean, clockid: number, rmtp: number): KGen<number> {
  const timer = hrtimer_init_sleeper(k, t);
  if (yield* do_nanosleep(k, t, timer, expires)) return 0;
  if (abs) {
    yield* k.step('do_nanosleep', `pid ${t.pid} woken by a signal (absolute sleep: no remaining time)`);
    return ERESTARTNOHAND;
  }
  const rem = expires - ktime_get(k);
  if (rem <= 0) return 0;
  restartBlocks.set(t, { fn: 'hrtimer_nanosleep_restart', clockid, expires, rmtp });
  if (rmtp) {
    const ts = ns_to_timespec(rem);
    const ok = k.mm.putUser32(t.mm, rmtp, ts.sec) && k.mm.putUser32(t.mm, rmtp + 4, ts.nsec);
    if (!ok) return EFAULT;
  }
  yield* k.step('do_nanosleep', `pid ${t.pid} woken by a signal ${rem} ns early${rmtp ? `: *rmtp = {${ns_to_timespec(rem).sec}, ${ns_to_timespec(rem).nsec}}` : ''}`);
  return ERESTART_RESTARTBLOCK;
}

/** hrtimer_nanosleep_restart: sleep on until the original expiry (and still report rem, as the first call would). */
export function* hrtimer_nanosleep_restart(k: Kernel, t: Task, r: NanosleepRestart): KGen<number> {
  return yield* hrtimer_nanosleep(k, t, r.expires, false, r.clockid, r.rmtp);
}
