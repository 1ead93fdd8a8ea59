// Small helpers shared by the CLI commands.

import type { Command } from 'commander';

/** Parses 0x-hex or decimal; throws with a message naming the bad value. */
export function parseAddress(s: string): number {
  const t = s.trim();
  const v = /^0x[0-9a-f]+$/i.test(t) ? parseInt(t, 16) : /^\d+$/.test(t) ? parseInt(t, 10) : NaN;
  if (!Number.isFinite(v) || v < 0 || v > 0xffffffff) throw new Error(`"${s}" is not an address (use 0x-hex or decimal, at most 0xffffffff)`);
  return v;
}

/** Prints `trapdoor <cmd>: <msg>` on stderr and exits 1 — a user error, never a stack trace. */
export function fail(cmd: string, msg: string): never {
  process.stderr.write(`trapdoor ${cmd}: ${msg}\n`);
  process.exit(1);
}

/**
 * Like fail(), but through commander: the message goes to the program's configured error
 * writer (`configureOutput({ writeErr })`) and the exit through its exit handling, so
 * `program.exitOverride()` turns it into a CommanderError (code 'trapdoor.fail') that tests
 * can catch in-process. No usage hint is appended: this is an error in the input, not in
 * the command line.
 */
export function commandFail(command: Command, msg: string): never {
  command.showHelpAfterError(false);
  command.error(`trapdoor ${command.name()}: ${msg}`, { exitCode: 1, code: 'trapdoor.fail' });
}

/** Writes to the program's configured stdout writer (process.stdout unless a test injects one). */
export function writeOut(command: Command, text: string): void {
  const write = command.configureOutput().writeOut ?? ((s: string) => process.stdout.write(s));
  write(text);
}
