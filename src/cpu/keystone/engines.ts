// The Keystone engines: one wasm instance of @alexaltea/keystone-js, one engine per
// (arch, syntax), and the one way to call ks_asm.
//
// * THE RADIX BUG. Any call of ks_option (which is how AT&T syntax is chosen — and even
//   choosing Intel explicitly) switches that engine's number radix to 16. The radix is per
//   engine; an engine that never saw ks_option reads decimal correctly. So: one engine per
//   (arch, syntax), opened once and never closed (an engine opened after a bad one was
//   closed can inherit the bad radix through heap reuse); ks_option is called on the AT&T
//   engine only, which is opened last. (The AT&T literals themselves: radix.ts.)
// * WASM CRASHES. keystone-js passes the source on the 64 KiB wasm stack (ccall 'string');
//   a large source overflows it and corrupts the heap for good. We call ks_asm ourselves
//   with the source in malloc'd memory. Any other wasm trap becomes an AsmError, the
//   poisoned instance is dropped and a fresh one is loaded in the background.

import { createRequire } from 'node:module';
import { AsmError, type AsmOptions } from './types.js';

// keystone-js is an Emscripten CommonJS factory without type declarations; we use only
// ccall/getValue/setValue/_malloc/_free and call ks_* ourselves.
type KsConstant = 'ARCH_ARM' | 'ARCH_X86' | 'MODE_ARM' | 'MODE_THUMB' | 'MODE_32' | 'OPT_SYNTAX' | 'OPT_SYNTAX_ATT';
interface KsModule extends Record<KsConstant, number> {
  ccall(name: string, ret: 'number' | 'string' | null, argTypes: string[], args: (number | bigint)[]): unknown;
  getValue(ptr: number, type: string): number;
  setValue(ptr: number, value: number, type: string): void;
  _malloc(size: number): number;
  _free(ptr: number): void;
}
type KsFactory = (moduleArg?: { print?: (s: string) => void; printErr?: (s: string) => void }) => Promise<KsModule>;

export type EngineKey = 'arm' | 'thumb' | 'x86-intel' | 'x86-att';

interface KsState {
  mod: KsModule;
  handles: Record<EngineKey, number>;
}

export interface RawResult {
  bytes: Uint8Array;
  /** Keystone's statement count (labels count separately). */
  count: number;
  /** ks_strerror text when Keystone reported failure, else null. */
  error: string | null;
}

const requireCjs = createRequire(import.meta.url);
const factory = requireCjs('@alexaltea/keystone-js') as KsFactory;

let state: KsState | null = null;
let reviving: Promise<void> | null = null;

/** Load the wasm module and open the engines. Called once, at start-up (startup.ts). */
export async function startEngines(): Promise<void> {
  state = await openState();
}

async function openState(): Promise<KsState> {
  // LLVM's diagnostics (e.g. "warning: use of SP in the list is deprecated") would go to
  // console.error and mess up the CLI's output: swallow them. Errors come back via ks_errno.
  const mod = await factory({ print: () => {}, printErr: () => {} });
  const open = (arch: number, mode: number): number => {
    const p = mod._malloc(4);
    try {
      const err = mod.ccall('ks_open', 'number', ['number', 'number', 'number'], [arch, mode, p]) as number;
      if (err !== 0) throw new Error(`trapdoor internal error: ks_open failed: ${strerror(mod, err)}`);
      return mod.getValue(p, '*');
    } finally {
      mod._free(p);
    }
  };
  // Order matters (the radix bug): engines that must read decimal first, and never a
  // ks_option on them; the AT&T engine last.
  const handles = {
    arm: open(mod.ARCH_ARM, mod.MODE_ARM),
    thumb: open(mod.ARCH_ARM, mod.MODE_THUMB),
    'x86-intel': open(mod.ARCH_X86, mod.MODE_32),
    'x86-att': open(mod.ARCH_X86, mod.MODE_32),
  };
  const err = mod.ccall('ks_option', 'number', ['number', 'number', 'number'], [
    handles['x86-att'],
    mod.OPT_SYNTAX,
    mod.OPT_SYNTAX_ATT,
  ]) as number;
  if (err !== 0) throw new Error(`trapdoor internal error: ks_option(AT&T) failed: ${strerror(mod, err)}`);
  return { mod, handles };
}

function strerror(mod: KsModule, code: number): string {
  return mod.ccall('ks_strerror', 'string', ['number'], [code]) as string;
}

/** The engine for these options; TypeError for an unknown arch. */
export function engineKey(opts: AsmOptions): EngineKey {
  switch (opts.arch) {
    case 'arm':
      return 'arm';
    case 'thumb':
      return 'thumb';
    case 'x86':
      return (opts.syntax ?? 'att') === 'intel' ? 'x86-intel' : 'x86-att';
    default:
      throw new TypeError(`unknown arch "${String((opts as { arch: unknown }).arch)}" (valid: arm, thumb, x86)`);
  }
}

/** One ks_asm call. The source goes through malloc'd memory, not the 64 KiB wasm stack. */
function ksAsm(s: KsState, key: EngineKey, source: string, addr: number): RawResult {
  const { mod } = s;
  const handle = s.handles[key];
  const text = Buffer.from(source + '\0', 'utf8');
  const src = mod._malloc(text.length);
  const out = mod._malloc(12);
  try {
    for (let i = 0; i < text.length; i++) mod.setValue(src + i, text[i]!, 'i8');
    const ret = mod.ccall('ks_asm', 'number', ['number', 'number', 'number', 'number', 'number', 'number'], [
      handle,
      src,
      BigInt(addr),
      out,
      out + 4,
      out + 8,
    ]) as number;
    const enc = mod.getValue(out, '*');
    const size = mod.getValue(out + 4, 'i32');
    const count = mod.getValue(out + 8, 'i32');
    const bytes = new Uint8Array(Math.max(0, size));
    for (let i = 0; i < bytes.length; i++) bytes[i] = mod.getValue(enc + i, 'i8') & 0xff;
    if (enc) mod.ccall('ks_free', null, ['number'], [enc]);
    let error: string | null = null;
    if (ret !== 0) error = strerror(mod, mod.ccall('ks_errno', 'number', ['number'], [handle]) as number);
    return { bytes, count, error };
  } finally {
    mod._free(out);
    mod._free(src);
  }
}

/**
 * Run Keystone on `source` (already guarded and radix-rewritten) at `addr`. A wasm trap
 * becomes an AsmError blaming `blame`, and the poisoned instance is replaced.
 */
export function runKs(key: EngineKey, source: string, addr: number, blame: string): RawResult {
  if (!state) {
    throw new AsmError(blame, 'the assembler is restarting after an internal crash; try again in a moment');
  }
  try {
    return ksAsm(state, key, source, addr);
  } catch (e) {
    if (e instanceof AsmError) throw e;
    // A trap inside wasm (RuntimeError: memory access out of bounds, unreachable, ...):
    // the module's memory can no longer be trusted. Load a fresh one in the background.
    state = null;
    reviving ??= openState().then(
      (s) => {
        state = s;
        reviving = null;
      },
      () => {
        reviving = null;
      },
    );
    throw new AsmError(blame, `Keystone crashed on this input (${(e as Error).message ?? String(e)})`);
  }
}
