// Layout: places every fragment at an address, iterating to a fixed point
// (instruction sizes depend on label addresses and vice versa), then emits bytes.
//
// Sections: .text at textAddr, .rodata right after it (same r-x segment), .data and
// .bss each on the next 4 KiB boundary. Instruction sizes only grow from one pass to
// the next, so the iteration terminates; it is capped anyway.

import type { InsnContext } from './context.js';
import { GasError, ReasonError, at } from './errors.js';
import { evaluate, type EvalEnv, type Value } from './expr.js';
import type { Arch } from './lexer.js';
import type { Frag, InsnMode, Plan, SectionName } from './frags.js';
import { codePadding } from './fill.js';
import { encodeArm } from './arm.js';
import { encodeX86 } from './x86.js';
import { isReserved } from './operands.js';

export const SECTION_ORDER: SectionName[] = ['text', 'rodata', 'data', 'bss'];
const MAX_PASSES = 64;
const PAGE = 0x1000;

export type KsFn = (text: string, mode: InsnMode, addr: number) => Uint8Array;

export interface PlacedSection {
  name: SectionName;
  addr: number;
  size: number;
  frags: Frag[];
}

export interface LayoutResult {
  sections: Record<SectionName, PlacedSection>;
  /** Final symbol values (internal names). */
  values: Map<string, Value>;
}

const alignUp = (v: number, a: number): number => Math.ceil(v / a) * a;

function toInt(v: Value, what: string): number {
  if (v.value < -(1n << 53n) || v.value > 1n << 53n) throw new ReasonError(`${what} out of range`);
  return Number(v.value);
}

export class Layout {
  private values = new Map<string, Value>();
  private prev = new Map<string, Value>();
  private prevSizes = new Map<Frag, number>();
  private dot = 0;
  private sectionBase = 0;
  private pass = 0;
  private final = false;
  private readonly env: EvalEnv;

  constructor(
    private readonly plan: Plan,
    private readonly arch: Arch,
    private readonly textAddr: number,
    private readonly ks: KsFn,
  ) {
    this.env = {
      dot: () => this.dot,
      lookup: (name, display) => this.lookup(name, display),
    };
  }

  private lookup(name: string, display: string): Value {
    const def = this.plan.symbols.get(name);
    if (!def) {
      if (name.includes('\u0002')) throw new ReasonError(`undefined local label \`${display}'`);
      throw new ReasonError(`undefined symbol \`${display}'`);
    }
    let v = this.values.get(name) ?? this.prev.get(name);
    if (!v) {
      // First pass, forward reference: guess "a little ahead", which keeps
      // relaxable instructions at their shortest form (as GNU as starts them).
      if (def.kind === 'equ') return { value: 0n, reloc: 0 };
      v = { value: BigInt((((this.dot + 4) & ~3) >>> 0) + 4), reloc: 1 };
    }
    if (def.kind === 'label' && def.thumb && def.func) return { value: v.value | 1n, reloc: v.reloc };
    return v;
  }

  run(): LayoutResult {
    let placed = this.doPass();
    for (;;) {
      const changed = this.changed();
      if (changed && this.pass >= MAX_PASSES) {
        const frag = this.firstChanged();
        const loc = frag?.loc ?? { file: '', line: 0, text: '' };
        throw new GasError(loc, `layout did not converge after ${MAX_PASSES} passes`);
      }
      this.prev = this.values;
      this.prevSizes = this.sizes();
      if (!changed) break;
      placed = this.doPass();
    }
    this.final = true;
    placed = this.doPass();
    const frag = this.firstChanged();
    if (frag) throw new GasError(frag.loc, 'internal error: layout changed in the emit pass');
    return { sections: placed, values: this.values };
  }

  private allFrags(): Frag[] {
    return SECTION_ORDER.flatMap((s) => this.plan.sections[s]);
  }

  private sizes(): Map<Frag, number> {
    return new Map(this.allFrags().map((f) => [f, f.size]));
  }

  private changed(): boolean {
    return this.firstChanged() !== undefined || [...this.values].some(([k, v]) => {
      const p = this.prev.get(k);
      return !p || p.value !== v.value;
    });
  }

  private firstChanged(): Frag | undefined {
    return this.allFrags().find((f) => this.prevSizes.get(f) !== f.size);
  }

  private doPass(): Record<SectionName, PlacedSection> {
    this.pass++;
    this.values = new Map();
    for (const f of this.allFrags()) {
      if (f.kind === 'pool') {
        f.pool.keys = new Map();
        f.pool.values = [];
      }
    }
    const out = {} as Record<SectionName, PlacedSection>;
    let end = this.textAddr;
    for (const name of SECTION_ORDER) {
      let base: number;
      if (name === 'text') base = this.textAddr;
      else if (name === 'rodata') base = alignUp(end, this.sectionAlign(name));
      else base = alignUp(end, PAGE);
      const frags = this.plan.sections[name];
      this.dot = base;
      this.sectionBase = base;
      for (const frag of frags) {
        frag.addr = this.dot;
        this.place(frag, name);
        this.dot += frag.size;
      }
      // GNU as pads the end of an ARM-target code section to its alignment (at most a
      // word), the largest of: 4 for ARM instructions and pools, 2 for Thumb, .align.
      if (name === 'text' && this.arch === 'arm') this.dot = alignUp(this.dot, Math.min(4, this.codeAlign(frags)));
      out[name] = { name, addr: base, size: this.dot - base, frags };
      end = this.dot;
    }
    return out;
  }

  /** The alignment GNU as records for an ARM code section. */
  private codeAlign(frags: Frag[]): number {
    let a = 1;
    for (const f of frags) {
      if (f.kind === 'insn') a = Math.max(a, f.mode === 'thumb' ? 2 : 4);
      else if (f.kind === 'pool' && f.size) a = Math.max(a, 4);
      else if (f.kind === 'align' && !f.modeSwitch) {
        const n = Number(evaluate(f.align, this.env).value);
        a = Math.max(a, f.pow2 ? 2 ** Math.min(n, 16) : n);
      }
    }
    return a;
  }

  /** Largest constant alignment requested in a section (at least 4). */
  private sectionAlign(name: SectionName): number {
    let a = 4;
    for (const f of this.plan.sections[name]) {
      if (f.kind !== 'align') continue;
      try {
        const n = Number(evaluate(f.align, this.env).value);
        const bytes = f.pow2 ? 2 ** n : n;
        if (bytes > a && bytes <= PAGE) a = bytes;
      } catch {
        /* not a constant: ignored here */
      }
    }
    return a;
  }

  private place(frag: Frag, section: SectionName): void {
    if (this.final) {
      at(frag.loc, () => this.placeOne(frag, section));
      return;
    }
    try {
      this.placeOne(frag, section);
    } catch (e) {
      // Sizing passes work with guessed symbol values: errors count only in the emit pass.
      if (!(e instanceof ReasonError) && !(e instanceof GasError)) throw e;
      if (frag.kind === 'insn') frag.size = this.prevSizes.get(frag) ?? (frag.mode === 'thumb' ? 2 : frag.mode === 'arm' ? 4 : 1);
    }
  }

  private placeOne(frag: Frag, section: SectionName): void {
    this.placeFrag(frag, section);
    // .bss holds no bytes: what goes there must be zero (GNU as rejects anything else).
    if (this.final && section === 'bss' && 'bytes' in frag && frag.bytes.length) {
      if (frag.bytes.some((b) => b !== 0)) throw new ReasonError('non-zero data in .bss (use .data, or .space/.zero)');
      frag.bytes = new Uint8Array();
    }
  }

  private placeFrag(frag: Frag, section: SectionName): void {
    const final = this.final;
    switch (frag.kind) {
      case 'label':
        frag.size = 0;
        this.values.set(frag.name, { value: BigInt(this.dot), reloc: 1 });
        return;
      case 'assign': {
        frag.size = 0;
        this.values.set(frag.name, evaluate(frag.expr, this.env));
        return;
      }
      case 'insn': {
        const minSize = this.prevSizes.get(frag) ?? 0;
        let bytes = this.encode(frag, minSize);
        if (bytes.length < minSize) {
          if (!final) {
            frag.size = minSize;
            return;
          }
          // Keep the settled size: pad after the instruction with NOPs.
          const pad = codePadding(frag.mode, minSize - bytes.length);
          const b = new Uint8Array(minSize);
          b.set(bytes);
          b.set(pad, bytes.length);
          bytes = b;
        }
        if ((frag.mode === 'arm' && this.dot % 4) || (frag.mode === 'thumb' && this.dot % 2)) {
          if (final) throw new ReasonError(`misaligned instruction at 0x${this.dot.toString(16)} (add .align before it)`);
        }
        frag.size = bytes.length;
        frag.bytes = bytes;
        return;
      }
      case 'data': {
        frag.size = frag.width * frag.exprs.length;
        if (!final) return;
        const out = new Uint8Array(frag.size);
        const bits = BigInt(frag.width * 8);
        frag.exprs.forEach((e, i) => {
          // `.` in each value is the address that value is stored at (as in GNU as).
          this.dot = frag.addr + i * frag.width;
          const v = evaluate(e, this.env).value;
          if (frag.width < 8 && (v < -(1n << (bits - 1n)) || v >= 1n << bits)) {
            throw new ReasonError(`value ${v} (0x${BigInt.asUintN(64, v).toString(16)}) out of range for a ${frag.width}-byte field`);
          }
          writeLE(out, i * frag.width, frag.width, v);
        });
        this.dot = frag.addr;
        frag.bytes = out;
        return;
      }
      case 'bytes':
        frag.size = frag.bytes.length;
        return;
      case 'space': {
        let count: number;
        if (frag.org) {
          const v = evaluate(frag.count, this.env);
          const target = v.reloc ? toInt(v, '.org location') : this.sectionBase + toInt(v, '.org location');
          count = target - this.dot;
          if (count < 0) throw new ReasonError(`.org cannot move the location backwards (by ${-count} bytes)`);
        } else {
          count = toInt(evaluate(frag.count, this.env), 'space size');
        }
        if (count < 0) throw new ReasonError(`negative size ${count}`);
        if (count * frag.fillSize > 0x4000000) throw new ReasonError(`size ${count * frag.fillSize} too large (limit 64 MiB)`);
        frag.size = count * frag.fillSize;
        if (!final) return;
        const fill = frag.fill ? evaluate(frag.fill, this.env).value : 0n;
        const out = new Uint8Array(frag.size);
        if (fill !== 0n) for (let i = 0; i < count; i++) writeLE(out, i * frag.fillSize, frag.fillSize, fill);
        frag.bytes = out;
        return;
      }
      case 'align': {
        const n = toInt(evaluate(frag.align, this.env), 'alignment');
        if (frag.pow2 && (n < 0 || n > 16)) throw new ReasonError(`alignment 2^${n} too large (maximum 2^16)`);
        const a = frag.pow2 ? 2 ** n : n;
        if (a <= 0 || (a & (a - 1)) !== 0) throw new ReasonError(`alignment ${a} is not a power of 2`);
        let pad = (a - (this.dot % a)) % a;
        if (frag.max) {
          const max = toInt(evaluate(frag.max, this.env), 'maximum');
          if (pad > max) pad = 0;
        }
        frag.size = pad;
        if (!final) return;
        if (frag.code) frag.bytes = codePadding(frag.code, pad);
        else {
          const fill = frag.fill ? evaluate(frag.fill, this.env).value : 0n;
          const out = new Uint8Array(pad);
          const w = frag.fillSize;
          for (let i = 0; i + w <= pad; i += w) writeLE(out, i, w, fill);
          frag.bytes = out;
        }
        return;
      }
      case 'pool': {
        const pool = frag.pool;
        const pad = (4 - (this.dot % 4)) % 4;
        pool.addr = this.dot + pad;
        frag.size = pool.values.length ? pad + 4 * pool.values.length : 0;
        if (!final) return;
        const out = new Uint8Array(frag.size);
        pool.values.forEach((v, i) => writeLE(out, pad + 4 * i, 4, v));
        frag.bytes = out;
        return;
      }
    }
  }

  private encode(frag: Extract<Frag, { kind: 'insn' }>, minSize: number): Uint8Array {
    const ctx: InsnContext = {
      addr: this.dot,
      final: this.final,
      minSize,
      env: this.env,
      isSymbol: (n) => this.plan.symbols.has(n) && !isReserved(n, frag.mode),
      symbol: (n) => this.plan.symbols.get(n),
      ks: this.ks,
      poolSlot: (pool, key, value) => {
        let idx = pool.keys.get(key);
        if (idx === undefined) {
          idx = pool.values.length;
          pool.keys.set(key, idx);
          pool.values.push(BigInt(value));
        }
        // The pool comes later in the section: its address is the previous pass's.
        return Number.isNaN(pool.addr) ? NaN : pool.addr + 4 * idx;
      },
    };
    return this.arch === 'arm' ? encodeArm(frag, ctx) : encodeX86(frag, ctx);
  }
}

function writeLE(out: Uint8Array, off: number, width: number, v: bigint): void {
  let x = BigInt.asUintN(width * 8, v);
  for (let i = 0; i < width; i++) {
    out[off + i] = Number(x & 0xffn);
    x >>= 8n;
  }
}
