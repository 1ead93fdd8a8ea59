// A typed binding to Unicorn 2.1 over koffi: one engine = one emulated CPU.
//
// Contracts, from the cost model in DESIGN.md:
//  - RAM is mapped once with uc_mem_map_ptr over memory we allocate, so callers
//    read guest physical memory through a DataView, never through uc_mem_read.
//  - No per-instruction JavaScript hooks: instructions are counted by the C hook
//    in native/td_hooks.c; JS hooks are interrupt, TLB fill, invalid memory and
//    code hooks restricted to an address range (breakpoints, gates).
//  - A JavaScript exception inside a hook never unwinds through C: it is kept,
//    emulation is stopped, and emuStart() rethrows it.

import koffi, { type TypeObject } from 'koffi';
import { nativeLibs } from './libs.js';
import { UC } from './uc-consts.js';


/** td_counter's single trap addresses (TD_TRAP_ADDRS) and its size in 64-bit words. */
const TRAP_ADDRS = 4;
const COUNTER_WORDS = 4 + TRAP_ADDRS + 1;
export type CpuArch = 'arm' | 'x86';

type Ptr = unknown;
type Fn = (...args: any[]) => any;

const ERR_NAMES = [
  'UC_ERR_OK', 'UC_ERR_NOMEM', 'UC_ERR_ARCH', 'UC_ERR_HANDLE', 'UC_ERR_MODE', 'UC_ERR_VERSION',
  'UC_ERR_READ_UNMAPPED', 'UC_ERR_WRITE_UNMAPPED', 'UC_ERR_FETCH_UNMAPPED', 'UC_ERR_HOOK',
  'UC_ERR_INSN_INVALID', 'UC_ERR_MAP', 'UC_ERR_WRITE_PROT', 'UC_ERR_READ_PROT', 'UC_ERR_FETCH_PROT',
  'UC_ERR_ARG', 'UC_ERR_READ_UNALIGNED', 'UC_ERR_WRITE_UNALIGNED', 'UC_ERR_FETCH_UNALIGNED',
  'UC_ERR_HOOK_EXIST', 'UC_ERR_RESOURCE', 'UC_ERR_EXCEPTION',
];

/** A Unicorn call failed; the message is Unicorn's own (uc_strerror). */
export class UcError extends Error {
  constructor(readonly fn: string, readonly code: number, reason: string) {
    super(`${fn}: ${reason}`);
  }
  get codeName(): string {
    return ERR_NAMES[this.code] ?? `uc_err ${this.code}`;
  }
}

interface Api {
  uc_version: Fn; uc_open: Fn; uc_close: Fn; uc_strerror: Fn; uc_ctl: Fn;
  uc_mem_map_ptr: Fn; uc_reg_read: Fn; uc_reg_write: Fn; uc_reg_read_batch: Fn; uc_reg_write_batch: Fn;
  uc_emu_start: Fn; uc_emu_stop: Fn; uc_hook_add: Fn; uc_hook_del: Fn;
  uc_context_alloc: Fn; uc_context_save: Fn; uc_context_restore: Fn; uc_context_free: Fn;
  td_add_counter: Fn;
  HookIntr: TypeObject; HookCode: TypeObject; HookTlb: TypeObject; HookMem: TypeObject;
}

let api: Api | undefined;

function loadApi(): Api {
  if (api) return api;
  const libs = nativeLibs();
  const L = koffi.load(libs.unicorn);
  const T = koffi.load(libs.hooks);
  const td_init = T.func('int td_init(const char *path)');
  const rc = td_init(libs.unicorn);
  if (rc !== 0) throw new Error(`trapdoor: native hook helper could not bind to ${libs.unicorn} (td_init ${rc})`);
  const a: Api = {
    uc_version: L.func('unsigned int uc_version(unsigned int *major, unsigned int *minor)'),
    uc_open: L.func('int uc_open(int arch, int mode, _Out_ void **uc)'),
    uc_close: L.func('int uc_close(void *uc)'),
    uc_strerror: L.func('const char *uc_strerror(int code)'),
    uc_ctl: L.func('int uc_ctl(void *uc, int control, ...)'),
    uc_mem_map_ptr: L.func('int uc_mem_map_ptr(void *uc, uint64_t address, size_t size, uint32_t perms, void *ptr)'),
    uc_reg_read: L.func('int uc_reg_read(void *uc, int regid, void *value)'),
    uc_reg_write: L.func('int uc_reg_write(void *uc, int regid, void *value)'),
    uc_reg_read_batch: L.func('int uc_reg_read_batch(void *uc, void *regs, void *vals, int count)'),
    uc_reg_write_batch: L.func('int uc_reg_write_batch(void *uc, void *regs, void *vals, int count)'),
    uc_emu_start: L.func('int uc_emu_start(void *uc, uint64_t begin, uint64_t until, uint64_t timeout, size_t count)'),
    uc_emu_stop: L.func('int uc_emu_stop(void *uc)'),
    uc_hook_add: L.func('int uc_hook_add(void *uc, _Out_ size_t *hh, int type, void *cb, void *user, uint64_t begin, uint64_t end, ...)'),
    uc_hook_del: L.func('int uc_hook_del(void *uc, size_t hh)'),
    uc_context_alloc: L.func('int uc_context_alloc(void *uc, _Out_ void **ctx)'),
    uc_context_save: L.func('int uc_context_save(void *uc, void *ctx)'),
    uc_context_restore: L.func('int uc_context_restore(void *uc, void *ctx)'),
    uc_context_free: L.func('int uc_context_free(void *ctx)'),
    td_add_counter: T.func('int td_add_counter(void *uc, _Out_ size_t *hh, void *counter)'),
    HookIntr: koffi.proto('void td_hook_intr(void *uc, uint32_t intno, void *user)'),
    HookCode: koffi.proto('void td_hook_code(void *uc, uint64_t address, uint32_t size, void *user)'),
    HookTlb: koffi.proto('bool td_hook_tlb(void *uc, uint64_t vaddr, int type, void *result, void *user)'),
    HookMem: koffi.proto('bool td_hook_mem(void *uc, int type, uint64_t address, int size, int64_t value, void *user)'),
  };
  api = a;
  return a;
}

/** Unicorn's version as [major, minor, patch]. */
export function unicornVersion(): [number, number, number] {
  const v = loadApi().uc_version(null, null) as number;
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff];
}

export interface TlbEntry {
  paddr: number;
  perms: number; // UC.PROT_* bits
}
/** Return the translation, or null to raise a page fault (uc_emu_start then returns UC_ERR_EXCEPTION). */
export type TlbFillHook = (vaddr: number, type: number) => TlbEntry | null;
export type InterruptHook = (intno: number) => void;
export type CodeHook = (address: number, size: number) => void;
/** Return true if handled (emulation continues), false to stop with an error. */
export type InvalidMemHook = (type: number, address: number, size: number, value: number) => boolean;

export interface HookHandle {
  readonly id: bigint | number;
  readonly kind: string;
}

export interface Ram {
  readonly size: number;
  readonly u8: Uint8Array;
  readonly dv: DataView;
}

export interface CpuContext {
  readonly ptr: Ptr;
}

const MAX_BATCH = 32;

export class Unicorn {
  private handle: Ptr;
  private readonly a: Api;
  private readonly callbacks = new Map<HookHandle, bigint | null>();
  private pending: unknown = undefined;
  private regBuf: Ptr;
  private regU32: Uint32Array;
  private batchIds: Ptr;
  private batchIdsI32: Int32Array;
  private batchVals: Ptr;
  private batchValsU32: Uint32Array;
  private batchPtrs: Ptr;
  private ramPtr: Ptr = null;
  private counterPtr: Ptr;
  /** [retired instructions, stop when retired reaches this]; shared with the C hook. */
  readonly counter: BigUint64Array;
  ram: Ram | undefined;
  private closed = false;

  constructor(readonly arch: CpuArch, opts: { thumb?: boolean; cpuModel?: number } = {}) {
    this.a = loadApi();
    const out: Ptr[] = [null];
    const mode = arch === 'arm' ? (opts.thumb ? UC.MODE_THUMB : UC.MODE_ARM) : UC.MODE_32;
    this.check('uc_open', this.a.uc_open(arch === 'arm' ? UC.ARCH_ARM : UC.ARCH_X86, mode, out));
    this.handle = out[0];
    if (opts.cpuModel !== undefined) this.check('uc_ctl(CPU_MODEL)', this.a.uc_ctl(this.handle, UC.CTL_CPU_MODEL_WRITE, 'int', opts.cpuModel));

    this.regBuf = koffi.alloc('uint64_t', 1);
    this.regU32 = new Uint32Array(koffi.view(this.regBuf, 8));
    this.batchIds = koffi.alloc('int', MAX_BATCH);
    this.batchIdsI32 = new Int32Array(koffi.view(this.batchIds, 4 * MAX_BATCH));
    this.batchVals = koffi.alloc('uint64_t', MAX_BATCH);
    this.batchValsU32 = new Uint32Array(koffi.view(this.batchVals, 8 * MAX_BATCH));
    this.batchPtrs = koffi.alloc('uint64_t', MAX_BATCH);
    const ptrs = new BigUint64Array(koffi.view(this.batchPtrs, 8 * MAX_BATCH));
    const base = koffi.address(this.batchVals) as bigint;
    for (let i = 0; i < MAX_BATCH; i++) ptrs[i] = base + BigInt(8 * i);

    // struct td_counter (native/td_hooks.c): retired, stop_at, trap_lo, trap_hi, trap_addr[4], trap_hit.
    this.counterPtr = koffi.alloc('uint64_t', COUNTER_WORDS);
    this.counter = new BigUint64Array(koffi.view(this.counterPtr, 8 * COUNTER_WORDS));
    this.counter.fill(0n);
    this.counter[1] = 0xffffffffffffffffn;
    const hh = [0];
    this.check('td_add_counter', this.a.td_add_counter(this.handle, hh, this.counterPtr));
  }

  private check(fn: string, code: number): void {
    if (code !== 0) throw new UcError(fn, code, this.a.uc_strerror(code) as string);
  }

  private live(): Ptr {
    if (this.closed) throw new Error('trapdoor: this CPU was closed');
    return this.handle;
  }

  /** Maps `size` bytes of host memory as guest physical RAM at address 0 (one region, DESIGN.md). */
  mapRam(size: number): Ram {
    if (this.ram) throw new Error('trapdoor: RAM is already mapped');
    if (size <= 0 || size % 4096) throw new Error(`trapdoor: RAM size ${size} is not a positive multiple of 4 KiB`);
    this.ramPtr = koffi.alloc('uint8_t', size);
    const buf = koffi.view(this.ramPtr, size) as ArrayBuffer;
    const u8 = new Uint8Array(buf);
    u8.fill(0);
    this.check('uc_mem_map_ptr', this.a.uc_mem_map_ptr(this.live(), 0, size, UC.PROT_ALL, this.ramPtr));
    this.ram = { size, u8, dv: new DataView(buf) };
    return this.ram;
  }

  /** UC_TLB_VIRTUAL: every TLB miss asks the TLB-fill hook; UC_TLB_CPU: QEMU walks the tables itself. */
  setTlbMode(mode: 'cpu' | 'virtual'): void {
    this.check('uc_ctl(TLB_TYPE)', this.a.uc_ctl(this.live(), UC.CTL_TLB_TYPE_WRITE, 'int', mode === 'cpu' ? UC.TLB_CPU : UC.TLB_VIRTUAL));
  }

  flushTlb(): void {
    this.check('uc_ctl(TLB_FLUSH)', this.a.uc_ctl(this.live(), UC.CTL_TLB_FLUSH));
  }

  /** Discards translated code in [begin, end): required after writing code (DESIGN.md). */
  removeCache(begin: number, end: number): void {
    this.check('uc_ctl(TB_REMOVE_CACHE)', this.a.uc_ctl(this.live(), UC.CTL_TB_REMOVE_CACHE, 'uint64_t', BigInt(begin), 'uint64_t', BigInt(end)));
  }

  flushCode(): void {
    this.check('uc_ctl(TB_FLUSH)', this.a.uc_ctl(this.live(), UC.CTL_TB_FLUSH));
  }

  regRead(id: number): number {
    this.regU32[0] = 0;
    this.regU32[1] = 0;
    this.check('uc_reg_read', this.a.uc_reg_read(this.live(), id, this.regBuf));
    return this.regU32[0]!;
  }

  regWrite(id: number, value: number): void {
    this.regU32[0] = value >>> 0;
    this.regU32[1] = 0;
    this.check('uc_reg_write', this.a.uc_reg_write(this.live(), id, this.regBuf));
  }

  /** Reads many 32-bit registers with one FFI call (DESIGN.md: 16 regs ~95 ns vs ~870 ns singly). */
  regReadBatch(ids: readonly number[]): number[] {
    const n = ids.length;
    if (n > MAX_BATCH) throw new Error(`trapdoor: at most ${MAX_BATCH} registers per batch`);
    for (let i = 0; i < n; i++) {
      this.batchIdsI32[i] = ids[i]!;
      this.batchValsU32[2 * i] = 0;
      this.batchValsU32[2 * i + 1] = 0;
    }
    this.check('uc_reg_read_batch', this.a.uc_reg_read_batch(this.live(), this.batchIds, this.batchPtrs, n));
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = this.batchValsU32[2 * i]!;
    return out;
  }

  regWriteBatch(ids: readonly number[], values: readonly number[]): void {
    const n = ids.length;
    if (n > MAX_BATCH || values.length !== n) throw new Error('trapdoor: bad register batch');
    for (let i = 0; i < n; i++) {
      this.batchIdsI32[i] = ids[i]!;
      this.batchValsU32[2 * i] = values[i]! >>> 0;
      this.batchValsU32[2 * i + 1] = 0;
    }
    this.check('uc_reg_write_batch', this.a.uc_reg_write_batch(this.live(), this.batchIds, this.batchPtrs, n));
  }

  /** Reads a raw register structure (e.g. ARM's uc_arm_cp_reg) in place. */
  regReadRaw(id: number, struct: Uint8Array): void {
    const p = koffi.alloc('uint8_t', struct.length);
    try {
      new Uint8Array(koffi.view(p, struct.length)).set(struct);
      this.check('uc_reg_read', this.a.uc_reg_read(this.live(), id, p));
      struct.set(new Uint8Array(koffi.view(p, struct.length)));
    } finally {
      koffi.free(p);
    }
  }

  regWriteRaw(id: number, struct: Uint8Array): void {
    const p = koffi.alloc('uint8_t', struct.length);
    try {
      new Uint8Array(koffi.view(p, struct.length)).set(struct);
      this.check('uc_reg_write', this.a.uc_reg_write(this.live(), id, p));
    } finally {
      koffi.free(p);
    }
  }

  private guard<T>(fallback: T, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (this.pending === undefined) this.pending = e;
      this.a.uc_emu_stop(this.handle);
      return fallback;
    }
  }

  private addHook(kind: string, type: number, proto: TypeObject, jsfn: Fn, begin = 1, end = 0): HookHandle {
    const cb = koffi.register(jsfn, koffi.pointer(proto));
    const hh = [0];
    const rc = this.a.uc_hook_add(this.live(), hh, type, cb, null, BigInt(begin), BigInt(end));
    if (rc !== 0) {
      koffi.unregister(cb);
      this.check(`uc_hook_add(${kind})`, rc);
    }
    const h: HookHandle = { id: hh[0]!, kind };
    this.callbacks.set(h, cb);
    return h;
  }

  hookInterrupt(fn: InterruptHook): HookHandle {
    return this.addHook('intr', UC.HOOK_INTR, this.a.HookIntr, (_uc: Ptr, intno: number) => this.guard(undefined, () => fn(intno)));
  }

  /** A code hook on [begin, end] only (inclusive, Unicorn's convention); never use it on the hot path. */
  hookCode(begin: number, end: number, fn: CodeHook): HookHandle {
    return this.addHook(
      'code',
      UC.HOOK_CODE,
      this.a.HookCode,
      (_uc: Ptr, addr: bigint | number, size: number) => this.guard(undefined, () => fn(Number(addr), size)),
      begin,
      end,
    );
  }

  hookTlbFill(fn: TlbFillHook): HookHandle {
    return this.addHook('tlb', UC.HOOK_TLB_FILL, this.a.HookTlb, (_uc: Ptr, vaddr: bigint | number, type: number, result: Ptr) =>
      this.guard(false, () => {
        const e = fn(Number(vaddr), type);
        if (!e) return false;
        koffi.encode(result, 'uint64_t', BigInt(e.paddr));
        koffi.encode(result, 8, 'int', e.perms);
        return true;
      }),
    );
  }

  hookInvalidMem(fn: InvalidMemHook): HookHandle {
    return this.addHook(
      'mem',
      UC.HOOK_MEM_INVALID,
      this.a.HookMem,
      (_uc: Ptr, type: number, addr: bigint | number, size: number, value: bigint | number) =>
        this.guard(false, () => fn(type, Number(addr), size, Number(BigInt.asUintN(32, BigInt(value))))),
    );
  }

  hookDel(h: HookHandle): void {
    if (!this.callbacks.has(h)) return;
    this.check('uc_hook_del', this.a.uc_hook_del(this.live(), h.id));
    const cb = this.callbacks.get(h);
    if (cb) koffi.unregister(cb);
    this.callbacks.delete(h);
  }

  /**
   * Trap addresses, checked by the native counter before each instruction:
   * reaching one stops the CPU (after counting it) and `trapHit` says which.
   * `range` is [lo, hi); `addrs` at most four single addresses.
   */
  setTraps(range: [number, number] | null, addrs: readonly number[] = []): void {
    if (addrs.length > TRAP_ADDRS) throw new Error(`at most ${TRAP_ADDRS} single trap addresses`);
    this.counter[2] = BigInt(range ? range[0] >>> 0 : 0);
    this.counter[3] = BigInt(range ? range[1] >>> 0 : 0);
    for (let i = 0; i < TRAP_ADDRS; i++) this.counter[4 + i] = BigInt(addrs[i] ?? 0);
  }

  /** The trap address the last run stopped at, or null. */
  get trapHit(): number | null {
    const v = this.counter[4 + TRAP_ADDRS]!;
    return v ? Number(v) : null;
  }

  /** Instructions retired since the engine was opened (exact; counted in C). */
  get retired(): number {
    return Number(this.counter[0]);
  }

  /**
   * Runs from `begin` (bit 0 set = Thumb on ARM) until `until`, a stop, an error,
   * or until `maxInsns` more instructions have retired. Returns Unicorn's error code
   * (0 or UC_ERR_EXCEPTION etc.) and rethrows any exception raised inside a hook.
   */
  emuStart(begin: number, until: number, maxInsns = Number.MAX_SAFE_INTEGER): number {
    const h = this.live();
    this.pending = undefined;
    this.counter[4 + TRAP_ADDRS] = 0n; // trap_hit
    this.counter[1] = maxInsns >= Number.MAX_SAFE_INTEGER ? 0xffffffffffffffffn : this.counter[0]! + BigInt(maxInsns);
    const rc = this.a.uc_emu_start(h, BigInt(begin >>> 0), BigInt(until >>> 0), 0n, 0) as number;
    if (this.pending !== undefined) {
      const e = this.pending;
      this.pending = undefined;
      throw e;
    }
    return rc;
  }

  emuStop(): void {
    this.a.uc_emu_stop(this.live());
  }

  strerror(code: number): string {
    return this.a.uc_strerror(code) as string;
  }

  contextSave(into?: CpuContext): CpuContext {
    let ctx = into;
    if (!ctx) {
      const out: Ptr[] = [null];
      this.check('uc_context_alloc', this.a.uc_context_alloc(this.live(), out));
      ctx = { ptr: out[0] };
    }
    this.check('uc_context_save', this.a.uc_context_save(this.live(), ctx.ptr));
    return ctx;
  }

  contextRestore(ctx: CpuContext): void {
    this.check('uc_context_restore', this.a.uc_context_restore(this.live(), ctx.ptr));
  }

  contextFree(ctx: CpuContext): void {
    this.a.uc_context_free(ctx.ptr);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.a.uc_close(this.handle);
    for (const cb of this.callbacks.values()) if (cb) koffi.unregister(cb);
    this.callbacks.clear();
    for (const p of [this.regBuf, this.batchIds, this.batchVals, this.batchPtrs, this.counterPtr, this.ramPtr]) if (p) koffi.free(p);
    this.ram = undefined;
  }
}
