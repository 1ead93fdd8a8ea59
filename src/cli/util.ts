// Small helpers shared by the CLI commands.

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
