// Renders the event stream as a story for people learning the syscall path:
// one line per event, indented by kernel call depth.

import pc from 'picocolors';
import type { TraceEvent } from './events.js';

export interface NarrateContext {
  syscallNames: ReadonlyMap<number, string>;
}

const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;

export function narrate(e: TraceEvent, _ctx: NarrateContext): string | null {
  const who = pc.cyan(`[pid ${e.pid} ${e.comm}]`);
  switch (e.t) {
    case 'sys_enter':
      return `${who} ${pc.bold(`${e.name}(${e.args.slice(0, 5).map(hex).join(', ')})`)}  ← trap into the kernel`;
    case 'sys_exit':
      return `${who} ${pc.bold(`${e.name}() = ${e.ret}`)}  → back to user mode`;
    case 'call':
      return `${who} ${'  '.repeat(e.depth)}${pc.yellow(e.fn)}() {`;
    case 'ret':
      return `${who} ${'  '.repeat(e.depth)}}`;
    case 'note':
      return `${who} ${'  '.repeat(8)}${pc.dim('·')} ${e.text}`;
    case 'event':
      return `${who} ${pc.magenta(e.name)}: ${Object.entries(e.fields).map(([k, v]) => `${k}=${v}`).join(' ')}`;
  }
}
