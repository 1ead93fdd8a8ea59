// The one event stream every view is rendered from (ftrace, strace, JSON).
// Bump TRACE_SCHEMA when an event's shape changes.

export const TRACE_SCHEMA = 1;

interface Base {
  /** Virtual time, ns of CLOCK_MONOTONIC (ktime_get: guest instructions retired + ns skipped while idle; src/kernel/time/clock.ts). */
  ts: number;
  pid: number;
  comm: string;
}

export type TraceEvent =
  | (Base & { t: 'call'; fn: string; depth: number })
  | (Base & { t: 'ret'; fn: string; depth: number; ret?: number })
  | (Base & { t: 'sys_enter'; nr: number; name: string; args: number[] })
  | (Base & { t: 'sys_exit'; nr: number; name: string; ret: number })
  /** A tracepoint in ftrace's own format, e.g. sched_process_fork. */
  | (Base & { t: 'event'; name: string; fields: Record<string, string | number> })
  /** A narrated step inside a kernel function (what just happened, with guest addresses). */
  | (Base & { t: 'note'; fn: string; text: string });

export type TraceListener = (e: TraceEvent) => void;

export class TraceStream {
  private readonly listeners: TraceListener[] = [];
  /** Events are kept only when `keep` is set (tests, JSON output); listeners always see them. */
  readonly events: TraceEvent[] = [];
  constructor(public keep = false) {}

  on(fn: TraceListener): () => void {
    this.listeners.push(fn);
    return () => {
      const i = this.listeners.indexOf(fn);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  get active(): boolean {
    return this.keep || this.listeners.length > 0;
  }

  emit(e: TraceEvent): void {
    if (this.keep) this.events.push(e);
    for (const l of this.listeners) l(e);
  }
}
