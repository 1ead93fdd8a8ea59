// C structures in guest memory: a layout table gives every field's offset, and
// views read and write the guest bytes directly — no shadow copies that can drift.
//
// Layouts follow the 32-bit ABIs of both targets: u32/pointers 4-aligned,
// arrays of u8 (char[]) 1-aligned, nested structs aligned to 4. u64 is
// 4-aligned as on i386 (ARM EABI would align it to 8: put u64 fields of a
// layout both arches share at 8-aligned offsets where the ABI matters). A u64
// reads as a JS number: exact up to 2^53.

export type FieldType = 'u64' | 'u32' | 'i32' | 'u16' | 'u8' | { bytes: number } | { array: 'u32'; length: number } | { struct: StructLayout };

export interface FieldDef {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  readonly type: FieldType;
}

export interface StructLayout {
  readonly name: string;
  readonly size: number;
  readonly fields: readonly FieldDef[];
  readonly byName: ReadonlyMap<string, FieldDef>;
  offsetOf(field: string): number;
}

function sizeOf(t: FieldType): number {
  if (t === 'u64') return 8;
  if (t === 'u32' || t === 'i32') return 4;
  if (t === 'u16') return 2;
  if (t === 'u8') return 1;
  if ('bytes' in t) return t.bytes;
  if ('array' in t) return 4 * t.length;
  return t.struct.size;
}

function alignOf(t: FieldType): number {
  if (t === 'u16') return 2;
  if (t === 'u8' || (typeof t === 'object' && 'bytes' in t)) return 1;
  return 4;
}

/** Lays out fields in order with natural alignment, like a 32-bit C compiler. */
export function defineStruct(name: string, fields: readonly (readonly [string, FieldType])[], opts: { size?: number } = {}): StructLayout {
  let off = 0;
  const defs: FieldDef[] = [];
  for (const [fname, type] of fields) {
    const a = alignOf(type);
    off = (off + a - 1) & ~(a - 1);
    const size = sizeOf(type);
    defs.push({ name: fname, offset: off, size, type });
    // nested struct members are reachable as "outer.inner"
    if (typeof type === 'object' && 'struct' in type) {
      for (const f of type.struct.fields) defs.push({ ...f, name: `${fname}.${f.name}`, offset: off + f.offset });
    }
    off += size;
  }
  const size = opts.size ?? ((off + 3) & ~3);
  if (size < off) throw new Error(`struct ${name}: declared size ${size} < ${off}`);
  const byName = new Map(defs.map((d) => [d.name, d]));
  return {
    name,
    size,
    fields: defs,
    byName,
    offsetOf(field: string): number {
      const f = byName.get(field);
      if (!f) throw new Error(`struct ${name} has no field "${field}"`);
      return f.offset;
    },
  };
}

/** Physical memory as the kernel sees it: the RAM Unicorn executes from. */
export interface PhysMem {
  readonly u8: Uint8Array;
  readonly dv: DataView;
  readonly size: number;
}

/** Reads and writes one struct instance at a physical address. */
export class StructView {
  constructor(readonly mem: PhysMem, readonly layout: StructLayout, readonly pa: number) {}

  private field(name: string): FieldDef {
    const f = this.layout.byName.get(name);
    if (!f) throw new Error(`struct ${this.layout.name} has no field "${name}"`);
    return f;
  }

  get(name: string): number {
    const f = this.field(name);
    const at = this.pa + f.offset;
    switch (f.type) {
      case 'u64': return this.mem.dv.getUint32(at, true) + this.mem.dv.getUint32(at + 4, true) * 2 ** 32;
      case 'u32': return this.mem.dv.getUint32(at, true);
      case 'i32': return this.mem.dv.getInt32(at, true);
      case 'u16': return this.mem.dv.getUint16(at, true);
      case 'u8': return this.mem.u8[at]!;
      default: throw new Error(`${this.layout.name}.${name} is not a scalar`);
    }
  }

  set(name: string, value: number): void {
    const f = this.field(name);
    const at = this.pa + f.offset;
    switch (f.type) {
      case 'u64':
        this.mem.dv.setUint32(at, value % 2 ** 32 >>> 0, true);
        this.mem.dv.setUint32(at + 4, Math.floor(value / 2 ** 32) >>> 0, true);
        return;
      case 'u32': this.mem.dv.setUint32(at, value >>> 0, true); return;
      case 'i32': this.mem.dv.setInt32(at, value | 0, true); return;
      case 'u16': this.mem.dv.setUint16(at, value & 0xffff, true); return;
      case 'u8': this.mem.u8[at] = value & 0xff; return;
      default: throw new Error(`${this.layout.name}.${name} is not a scalar`);
    }
  }

  /** A NUL-terminated string stored in a char[] field. */
  getString(name: string): string {
    const f = this.field(name);
    const bytes = this.mem.u8.subarray(this.pa + f.offset, this.pa + f.offset + f.size);
    const end = bytes.indexOf(0);
    return new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
  }

  setString(name: string, s: string): void {
    const f = this.field(name);
    const bytes = new TextEncoder().encode(s).subarray(0, f.size - 1);
    this.mem.u8.fill(0, this.pa + f.offset, this.pa + f.offset + f.size);
    this.mem.u8.set(bytes, this.pa + f.offset);
  }

  /** Physical address of a field. */
  addrOf(name: string): number {
    return this.pa + this.field(name).offset;
  }

  /** Every scalar field with its value, for `task PID` style displays. */
  dump(): { name: string; offset: number; value: number | string }[] {
    return this.layout.fields
      .filter((f) => typeof f.type === 'string' || 'bytes' in f.type)
      .map((f) => ({ name: f.name, offset: f.offset, value: typeof f.type === 'string' ? this.get(f.name) : this.getString(f.name) }));
  }
}
