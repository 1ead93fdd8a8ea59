// The directive pass: statements (in source order) → per-section fragments and symbol
// definitions. Tracks the current section, ARM/Thumb mode and x86 syntax, resolves
// local labels (`1:` / `1b` / `1f`), and knows every directive this front end accepts.

import { GasError, ReasonError, at, type SrcLoc } from './errors.js';
import { parseExpr, type Expr } from './expr.js';
import type { Frag, InsnMode, Plan, Pool, SectionName, SymbolDef } from './frags.js';
import { splitCommas, tokenize, type Arch, type Statement, type Token } from './lexer.js';

/** Directives accepted and ignored (they only matter to linkers, debuggers or other tools). */
const IGNORED = new Set([
  '.global', '.globl', '.local', '.weak', '.hidden', '.protected', '.internal', '.size',
  '.fpu', '.eabi_attribute', '.file', '.ident', '.cpu', '.arch', '.arch_extension',
  '.object_arch', '.loc', '.nolist', '.list', '.fnstart', '.fnend', '.cantunwind',
  '.personality', '.personalityindex', '.handlerdata', '.save', '.vsave', '.setfp', '.pad',
  '.movsp', '.unwind_raw', '.tlsdescseq', '.title', '.sbttl', '.psize', '.eject', '.addrsig',
  '.addrsig_sym', '.gnu_attribute',
]);

const DATA_WIDTH: Record<Arch, Record<string, 1 | 2 | 4 | 8>> = {
  arm: {
    '.byte': 1, '.hword': 2, '.short': 2, '.2byte': 2, '.word': 4, '.long': 4, '.int': 4,
    '.4byte': 4, '.quad': 8, '.8byte': 8,
  },
  // i386 GNU as: .word is 16 bits, like .short.
  x86: {
    '.byte': 1, '.hword': 2, '.short': 2, '.2byte': 2, '.word': 2, '.value': 2, '.long': 4,
    '.int': 4, '.4byte': 4, '.quad': 8, '.8byte': 8,
  },
};

const ARM_CONDS = ['eq', 'ne', 'cs', 'hs', 'cc', 'lo', 'mi', 'pl', 'vs', 'vc', 'hi', 'ls', 'ge', 'lt', 'gt', 'le', 'al'];
const ARM_INVERSE: Record<string, string> = {
  eq: 'ne', ne: 'eq', cs: 'cc', hs: 'lo', cc: 'cs', lo: 'hs', mi: 'pl', pl: 'mi', vs: 'vc',
  vc: 'vs', hi: 'ls', ls: 'hi', ge: 'lt', lt: 'ge', gt: 'le', le: 'gt',
};

/** Section a `.section NAME` selects; null for sections whose content is dropped. */
function sectionFor(name: string): SectionName | null | undefined {
  if (/^\.text(\.|$)/.test(name) || name === '.init' || name === '.fini') return 'text';
  if (/^\.rodata(\.|$)/.test(name)) return 'rodata';
  if (/^\.data(\.|$)/.test(name) || /^\.data\.rel/.test(name)) return 'data';
  if (/^\.bss(\.|$)/.test(name)) return 'bss';
  if (/^\.note/.test(name) || name === '.comment' || /^\.ARM\.attributes/.test(name) || /^\.debug/.test(name)) return null;
  return undefined;
}

export interface PlanOptions {
  arch: Arch;
}

export function buildPlan(stmts: Statement[], opts: PlanOptions): Plan {
  return new PlanBuilder(opts.arch).run(stmts);
}

class PlanBuilder {
  private readonly sections: Record<SectionName, Frag[]> = { text: [], rodata: [], data: [], bss: [] };
  private readonly symbols = new Map<string, SymbolDef>();
  private readonly order: string[] = [];
  /** null while inside a dropped section (.note.GNU-stack and the like). */
  private section: SectionName | null = 'text';
  private previous: SectionName | null = 'text';
  private thumb = false;
  private intel = false;
  private thumbFuncPending = false;
  private readonly funcNames = new Set<string>();
  /** Local numeric labels: how many definitions of each were seen so far. */
  private readonly localCount = new Map<string, number>();
  /** Versions of symbols that were re-assigned with .set / = (name → current version). */
  private readonly version = new Map<string, number>();
  /** Pool of the current section that the next `ldr =` uses; one per (section, .ltorg). */
  private readonly openPool = new Map<SectionName, Pool>();
  private poolId = 0;
  private itSlots: string[] = [];
  /** .lcomm and .comm blocks: placed after the .bss content, in that order (as GNU as + ld do). */
  private readonly lcomm: Frag[] = [];
  private readonly comm: Frag[] = [];
  private ended = false;
  private seq = 0;

  constructor(private readonly arch: Arch) {}

  run(stmts: Statement[]): Plan {
    for (const st of stmts) {
      if (this.ended) break;
      this.seq++;
      at(st.loc, () => this.statement(st));
    }
    // Pools not closed by .ltorg go to the end of their section.
    for (const [sec, pool] of this.openPool) {
      const frags = this.sections[sec];
      const last = frags[frags.length - 1];
      const loc: SrcLoc = last ? last.loc : { file: '', line: 0, text: '' };
      frags.push({ kind: 'pool', pool, loc, seq: this.seq + 1, text: '<literal pool>', addr: 0, size: 0, bytes: new Uint8Array() });
    }
    this.sections.bss.push(...this.lcomm, ...this.comm);
    for (const name of this.funcNames) {
      const def = this.symbols.get(name);
      if (def) def.func = true;
    }
    return { sections: this.sections, symbols: this.symbols, order: this.order };
  }

  private get mode(): InsnMode {
    if (this.arch === 'arm') return this.thumb ? 'thumb' : 'arm';
    return this.intel ? 'intel' : 'att';
  }

  private push(frag: Frag): void {
    if (this.section === null) return;
    this.sections[this.section].push(frag);
  }

  private base(st: Statement): { loc: SrcLoc; seq: number; text: string; addr: number; size: number } {
    return { loc: st.loc, seq: this.seq, text: st.text, addr: 0, size: 0 };
  }

  private statement(st: Statement): void {
    for (const label of st.labels) this.defineLabel(st, label);
    const body = st.body;
    switch (body.kind) {
      case 'empty':
        return;
      case 'assign':
        return this.assign(st, body.name, body.expr, false);
      case 'insn':
        return this.insn(st, body.mnemonic, body.operands);
      case 'directive':
        return this.directive(st, body.name, body.args);
    }
  }

  private defineLabel(st: Statement, label: string): void {
    let name = label;
    let hidden = false;
    if (/^\d+$/.test(label)) {
      const n = (this.localCount.get(label) ?? 0) + 1;
      this.localCount.set(label, n);
      name = `${label}\u0002${n}`;
      hidden = true;
    } else {
      const prev = this.symbols.get(name);
      if (prev) {
        throw new GasError(st.loc, `symbol \`${label}' is already defined (at line ${prev.loc.line})`);
      }
      hidden = label.startsWith('.L');
    }
    if (this.section === null) return;
    this.symbols.set(name, {
      kind: 'label', display: label, section: this.section, thumb: this.arch === 'arm' && this.thumb,
      func: this.thumbFuncPending && this.thumb, hidden, loc: st.loc, seq: this.seq,
    });
    this.thumbFuncPending = false;
    this.order.push(name);
    this.push({ kind: 'label', name, ...this.base(st) });
  }

  /** Tokens with local label references and re-assigned symbols resolved to internal names. */
  private tokens(text: string): Token[] {
    const toks = tokenize(text, this.arch);
    return toks.map((t): Token => {
      if (t.kind === 'local') {
        const n = this.localCount.get(t.label) ?? 0;
        const display = `${t.label}${t.dir}`;
        if (t.dir === 'b') {
          if (n === 0) throw new ReasonError(`undefined local label \`${display}' (no earlier \`${t.label}:')`);
          return { kind: 'ident', name: `${t.label}\u0002${n}`, display, start: t.start, end: t.end };
        }
        return { kind: 'ident', name: `${t.label}\u0002${n + 1}`, display, start: t.start, end: t.end };
      }
      if (t.kind === 'ident') {
        const v = this.version.get(t.name);
        if (v !== undefined && v > 1) return { ...t, name: `${t.name}\u0003${v}`, display: t.name };
      }
      return t;
    });
  }

  private expr(text: string, what = 'expression'): Expr {
    return parseExpr(this.tokens(text), what);
  }

  /** Comma-separated arguments, each as its token list. */
  private args(text: string): Token[][] {
    if (text.trim() === '') return [];
    return splitCommas(this.tokens(text));
  }

  private argExprs(text: string, what = 'expression'): Expr[] {
    return this.args(text).map((toks) => parseExpr(toks, what));
  }

  private assign(st: Statement, name: string, exprText: string, once: boolean): void {
    // The expression is read before the new version exists (so `.set x, x+1` works).
    const expr = this.expr(exprText);
    const prev = this.symbols.get(name);
    if (prev && prev.kind === 'label') {
      throw new ReasonError(`symbol \`${name}' is already defined as a label (at line ${prev.loc.line})`);
    }
    let internal = name;
    if (prev) {
      if (once) throw new ReasonError(`symbol \`${name}' is already defined (at line ${prev.loc.line})`);
      const v = (this.version.get(name) ?? 1) + 1;
      this.version.set(name, v);
      internal = `${name}\u0003${v}`;
    } else {
      this.version.set(name, 1);
    }
    const def: SymbolDef = {
      kind: 'equ', display: name, section: this.section ?? undefined, thumb: false, func: false,
      hidden: name.startsWith('.L'), loc: st.loc, seq: this.seq,
    };
    this.symbols.set(internal, def);
    if (internal !== name) this.symbols.get(name)!.hidden = true;
    this.order.push(internal);
    const frag: Frag = { kind: 'assign', name: internal, expr, ...this.base(st) };
    // An assignment outside any laid-out section still needs evaluating: put it in .text.
    if (this.section === null) this.sections.text.push(frag);
    else this.push(frag);
  }

  private insn(st: Statement, mnemonic: string, operands: string): void {
    if (this.section === null) throw new ReasonError('instruction in a section that is not loaded');
    if (this.section === 'bss') throw new ReasonError('instruction in .bss (only .space/.skip/.zero and labels may go there)');
    let itCond: string | undefined;
    if (this.arch === 'arm') {
      const it = /^it([te]{0,3})$/.exec(mnemonic);
      if (it) {
        const cond = operands.trim().toLowerCase();
        if (!ARM_CONDS.includes(cond)) throw new ReasonError(`bad IT condition '${operands.trim()}'`);
        if (!this.thumb) return; // In ARM state, IT is accepted and emits nothing (as GNU as does).
        if (this.itSlots.length) throw new ReasonError('IT instruction inside an IT block');
        const base = cond === 'hs' ? 'cs' : cond === 'lo' ? 'cc' : cond;
        this.itSlots = [cond];
        for (const c of it[1]!) {
          if (c === 'e' && cond === 'al') throw new ReasonError('IT block with AL condition cannot have an else slot');
          this.itSlots.push(c === 't' ? cond : ARM_INVERSE[base]!);
        }
        // The IT instruction itself is encoded normally.
        this.pushInsn(st, mnemonic, operands, undefined);
        return;
      }
      if (this.itSlots.length) itCond = this.itSlots.shift();
    }
    this.pushInsn(st, mnemonic, operands, itCond);
  }

  private pushInsn(st: Statement, mnemonic: string, operands: string, itCond: string | undefined): void {
    const tokens = this.tokens(operands);
    let pool: Pool | undefined;
    if (this.arch === 'arm' && /^ldr/.test(mnemonic) && tokens.some((t) => t.kind === 'op' && t.op === '=')) {
      const sec = this.section!;
      pool = this.openPool.get(sec);
      if (!pool) {
        pool = { id: this.poolId++, keys: new Map(), values: [], addr: NaN };
        this.openPool.set(sec, pool);
      }
    }
    this.push({
      kind: 'insn', mode: this.mode, mnemonic, operands, tokens, itCond, pool, bytes: new Uint8Array(),
      ...this.base(st),
    });
  }

  private setSection(sec: SectionName | null): void {
    if (this.itSlots.length) throw new ReasonError('section change inside an IT block');
    this.previous = this.section;
    this.section = sec;
  }

  private setThumb(thumb: boolean, st: Statement): void {
    if (this.arch !== 'arm') throw new ReasonError(`${thumb ? '.thumb' : '.arm'} is only valid for ARM`);
    this.thumb = thumb;
    // GNU as aligns the location when switching instruction sets in a code section.
    if (this.section === 'text') {
      this.push({
        kind: 'align', align: { kind: 'num', value: thumb ? 2n : 4n }, pow2: false, fill: null, fillSize: 1,
        max: null, code: null, modeSwitch: true, bytes: new Uint8Array(), ...this.base(st),
      });
    }
  }

  private directive(st: Statement, name: string, args: string): void {
    const a = this.arch;
    if (IGNORED.has(name) || name.startsWith('.cfi_')) return;
    const width = DATA_WIDTH[a][name];
    if (width !== undefined) {
      const exprs = this.argExprs(args);
      if (exprs.length === 0) return;
      this.push({ kind: 'data', width, exprs, bytes: new Uint8Array(), ...this.base(st) });
      return;
    }
    switch (name) {
      case '.text': return this.setSection('text');
      case '.data': return this.setSection('data');
      case '.bss': return this.setSection('bss');
      case '.rodata': return this.setSection('rodata');
      case '.section':
      case '.pushsection': {
        const secName = /^\s*("[^"]*"|[^\s,]+)/.exec(args)?.[1]?.replace(/"/g, '');
        if (!secName) throw new ReasonError('missing section name');
        const sec = sectionFor(secName);
        if (sec === undefined) throw new ReasonError(`unsupported section '${secName}' (use .text, .rodata, .data or .bss)`);
        return this.setSection(sec);
      }
      case '.previous':
      case '.popsection':
        return this.setSection(this.previous);
      case '.ascii':
      case '.asciz':
      case '.string': {
        const zero = name !== '.ascii';
        const out: number[] = [];
        for (const part of this.args(args)) {
          if (part.length !== 1 || part[0]!.kind !== 'str') throw new ReasonError(`${name} expects string literals`);
          out.push(...part[0].bytes);
          if (zero) out.push(0);
        }
        if (out.length === 0) return;
        this.push({ kind: 'bytes', bytes: Uint8Array.from(out), ...this.base(st) });
        return;
      }
      case '.space':
      case '.skip':
      case '.zero': {
        const ex = this.argExprs(args);
        if (ex.length < 1 || ex.length > (name === '.zero' ? 1 : 2)) throw new ReasonError(`${name} expects a size${name === '.zero' ? '' : ' and an optional fill value'}`);
        this.push({ kind: 'space', count: ex[0]!, fillSize: 1, fill: ex[1] ?? null, bytes: new Uint8Array(), ...this.base(st) });
        return;
      }
      case '.org': {
        const ex = this.argExprs(args);
        if (ex.length < 1 || ex.length > 2) throw new ReasonError('.org expects a location and an optional fill value');
        this.push({ kind: 'space', count: ex[0]!, fillSize: 1, fill: ex[1] ?? null, org: true, bytes: new Uint8Array(), ...this.base(st) });
        return;
      }
      case '.fill': {
        const ex = this.argExprs(args);
        if (ex.length < 1 || ex.length > 3) throw new ReasonError('.fill expects repeat[, size[, value]]');
        let size = 1;
        if (ex[1]) {
          if (ex[1].kind !== 'num') throw new ReasonError('.fill size must be a number');
          size = Math.min(Number(ex[1].value), 8);
        }
        this.push({ kind: 'space', count: ex[0]!, fillSize: size, fill: ex[2] ?? { kind: 'num', value: 0n }, bytes: new Uint8Array(), ...this.base(st) });
        return;
      }
      case '.align':
      case '.balign':
      case '.balignw':
      case '.balignl':
      case '.p2align':
      case '.p2alignw':
      case '.p2alignl': {
        const parts = this.args(args);
        const ex = parts.map((p) => (p.length ? parseExpr(p) : null));
        const pow2 = name.startsWith('.p2') || (name === '.align' && a === 'arm');
        const fillSize = name.endsWith('w') ? 2 : name.endsWith('l') ? 4 : 1;
        const align: Expr = ex[0] ?? { kind: 'num', value: a === 'arm' ? 2n : 4n };
        // In code, pad with NOPs; i386 GNU as also does so when the fill given is 0x90.
        const nopFill = a === 'x86' && ex[1]?.kind === 'num' && ex[1].value === 0x90n && fillSize === 1;
        const code = this.section === 'text' && (!ex[1] || nopFill) ? this.mode : null;
        this.push({
          kind: 'align', align, pow2, fill: ex[1] ?? null, fillSize, max: ex[2] ?? null, code,
          bytes: new Uint8Array(), ...this.base(st),
        });
        return;
      }
      case '.ltorg':
      case '.pool': {
        if (a !== 'arm') break;
        if (this.section === null) return;
        const pool = this.openPool.get(this.section);
        if (!pool) return;
        this.openPool.delete(this.section);
        this.push({ kind: 'pool', pool, bytes: new Uint8Array(), ...this.base(st) });
        return;
      }
      case '.equ':
      case '.set':
      case '.equiv': {
        const m = /^\s*([A-Za-z_.$][A-Za-z0-9_.$]*)\s*,\s*(.*)$/.exec(args);
        if (!m) throw new ReasonError(`${name} expects NAME, expression`);
        return this.assign(st, m[1]!, m[2]!, name === '.equiv');
      }
      case '.arm':
        return this.setThumb(false, st);
      case '.thumb':
        return this.setThumb(true, st);
      case '.code': {
        const n = args.trim();
        if (a === 'arm' && (n === '16' || n === '32')) return this.setThumb(n === '16', st);
        if (a === 'x86' && n === '32') return;
        throw new ReasonError(`unsupported .code ${n}`);
      }
      case '.code32':
        if (a === 'x86') return;
        break;
      case '.code16':
      case '.code16gcc':
      case '.code64':
        if (a === 'x86') throw new ReasonError(`${name} is not supported (only 32-bit code)`);
        break;
      case '.intel_syntax':
      case '.att_syntax': {
        if (a !== 'x86') break;
        const arg = args.trim().toLowerCase();
        if (name === '.intel_syntax' && arg === 'prefix') throw new ReasonError('.intel_syntax prefix is not supported (use noprefix)');
        if (name === '.att_syntax' && arg === 'noprefix') throw new ReasonError('.att_syntax noprefix is not supported');
        this.intel = name === '.intel_syntax';
        return;
      }
      case '.syntax': {
        if (a !== 'arm') break;
        const arg = args.trim().toLowerCase();
        if (arg !== 'unified' && arg !== 'divided') throw new ReasonError(`unknown syntax '${args.trim()}'`);
        return;
      }
      case '.thumb_func':
        if (a !== 'arm') break;
        this.thumbFuncPending = true;
        if (!this.thumb) this.setThumb(true, st);
        return;
      case '.type': {
        const m = /^\s*([A-Za-z_.$][A-Za-z0-9_.$]*)\s*,\s*[%@#]?(\w+)/.exec(args);
        if (!m) throw new ReasonError('.type expects NAME, %function or %object');
        if (/^(function|STT_FUNC|gnu_indirect_function)$/i.test(m[2]!)) this.funcNames.add(m[1]!);
        return;
      }
      case '.inst':
      case '.inst.n':
      case '.inst.w': {
        if (a !== 'arm') break;
        for (const e of this.argExprs(args)) this.inst(st, name, e);
        return;
      }
      case '.lcomm':
      case '.comm':
        return this.common(st, name, args);
      case '.end':
        this.ended = true;
        return;
    }
    // Inside a dropped section (.note.*, .debug_*, …) directives we do not know are harmless.
    if (this.section === null) return;
    throw new ReasonError(`unknown directive '${name}'`);
  }

  /** `.inst` emits an instruction word: ARM 4 bytes; Thumb 2 bytes, or two halfwords (high first). */
  private inst(st: Statement, name: string, e: Expr): void {
    const num = (v: bigint): Expr => ({ kind: 'num', value: v });
    let width: 2 | 4 = 4;
    if (this.thumb) {
      if (name === '.inst.n') width = 2;
      else if (name === '.inst.w') width = 4;
      else if (e.kind === 'num') width = e.value > 0xffffn ? 4 : 2;
      else throw new ReasonError('.inst in Thumb code needs .inst.n or .inst.w for a non-constant value');
    }
    const exprs: Expr[] =
      this.thumb && width === 4
        ? [
            { kind: 'binary', op: '&', left: { kind: 'binary', op: '>>', left: e, right: num(16n) }, right: num(0xffffn) },
            { kind: 'binary', op: '&', left: e, right: num(0xffffn) },
          ]
        : [e];
    this.push({ kind: 'data', width: this.thumb ? 2 : 4, exprs, bytes: new Uint8Array(), ...this.base(st) });
  }

  /** `.lcomm sym, size[, align]` / `.comm sym, size[, align]`: zeroed space in .bss. */
  private common(st: Statement, name: string, args: string): void {
    const m = /^\s*([A-Za-z_.$][A-Za-z0-9_.$]*)\s*,\s*(.*)$/.exec(args);
    if (!m) throw new ReasonError(`${name} expects NAME, size[, alignment]`);
    const sym = m[1]!;
    const ex = this.argExprs(m[2]!);
    if (ex.length < 1 || ex.length > 2) throw new ReasonError(`${name} expects NAME, size[, alignment]`);
    if (ex[0]!.kind !== 'num' || (ex[1] && ex[1].kind !== 'num')) throw new ReasonError(`${name} size and alignment must be numbers`);
    const size = Number(ex[0]!.value);
    // Default alignment: the largest power of two not above the size (at most 8, or 16 for .comm).
    let align = ex[1] ? Number((ex[1] as { value: bigint }).value) : 1;
    if (!ex[1]) while (align * 2 <= size && align < (name === '.comm' ? 16 : 8)) align *= 2;
    const prev = this.symbols.get(sym);
    if (prev) throw new ReasonError(`symbol \`${sym}' is already defined (at line ${prev.loc.line})`);
    this.symbols.set(sym, {
      kind: 'label', display: sym, section: 'bss', thumb: false, func: false, hidden: sym.startsWith('.L'),
      loc: st.loc, seq: this.seq,
    });
    this.order.push(sym);
    const list = name === '.lcomm' ? this.lcomm : this.comm;
    const base = this.base(st);
    list.push(
      { kind: 'align', align: { kind: 'num', value: BigInt(align) }, pow2: false, fill: null, fillSize: 1, max: null, code: null, bytes: new Uint8Array(), ...base },
      { kind: 'label', name: sym, ...this.base(st) },
      { kind: 'space', count: { kind: 'num', value: BigInt(size) }, fillSize: 1, fill: null, bytes: new Uint8Array(), ...this.base(st) },
    );
  }

}
