// Guards that keep inputs away from Keystone which hang it or make it work for ages (found
// by fuzzing). Keystone loops forever on a statement that starts with punctuation (`%eax`,
// `,`, `*`, `(`, `=`), on a stray `:` in an operand, on `{` in an x86 operand, and on a
// malformed expression in a data directive (`.byte %eax`) or an assignment. Those shapes
// are refused here; only data and alignment directives are accepted, with sizes capped
// (`.space 100000000` takes ages). Every check throws AsmError naming the statement `text`.

import { CHAR_LITERAL, gnuInt, splitArgs } from './lex.js';
import { AsmError, type AsmArch } from './types.js';

/** Only printable ASCII and tabs. */
export function checkCharacters(text: string): void {
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (code < 0x20 && ch !== '\t') {
      throw new AsmError(text, `unexpected control character U+${code.toString(16).padStart(4, '0')}`);
    }
    if (code > 0x7e) throw new AsmError(text, `unexpected character "${ch}" (only ASCII is accepted)`);
  }
}

/** `body` (the statement after its labels) must start with a mnemonic or directive name. */
export function checkStart(text: string, body: string): void {
  if (!/^[A-Za-z_.]/.test(body)) {
    throw new AsmError(text, `expected an instruction mnemonic, a label or a directive, not "${body[0]}"`);
  }
}

/** `name = expr`: Keystone loops on a malformed expression here too. */
export function checkAssignment(text: string, name: string, expr: string): void {
  if (!isSimpleExpr(expr)) throw new AsmError(text, `"${name} =" needs a number or a simple expression`);
}

const DATA_DIRECTIVES = new Set(['.byte', '.short', '.hword', '.word', '.long', '.int', '.quad']);
const STRING_DIRECTIVES = new Set(['.ascii', '.asciz', '.string']);
const ALIGN_DIRECTIVES = new Set(['.align', '.balign', '.p2align']);
const SPACE_DIRECTIVES = new Set(['.space', '.skip', '.zero']);
const MAX_SPACE = 0x100000;

/**
 * A directive `word` with arguments `rest`: only data, string, alignment and space
 * directives, with well-formed arguments and bounded sizes. Returns whether it must emit
 * bytes (it has values), so that emitting nothing shows Keystone dropped it.
 */
export function checkDirective(text: string, word: string, rest: string, arch: AsmArch): boolean {
  const d = word.toLowerCase();
  const args = splitArgs(rest);
  if (DATA_DIRECTIVES.has(d)) {
    const bad = args.find((a) => !isSimpleExpr(a));
    if (bad !== undefined) throw new AsmError(text, `${d} needs numbers or simple expressions, not "${bad}"`);
    return args.length > 0;
  }
  if (STRING_DIRECTIVES.has(d)) {
    const bad = args.find((a) => !/^"(?:\\.|[^"\\])*"$/.test(a));
    if (bad !== undefined) throw new AsmError(text, `${d} needs quoted strings, not ${bad === '' ? 'nothing' : `'${bad}'`}`);
    return d !== '.ascii' || args.some((a) => a.length > 2);
  }
  if (ALIGN_DIRECTIVES.has(d) || SPACE_DIRECTIVES.has(d)) {
    const nums = args.map(plainNumber);
    if (args.length === 0 || args.length > 3 || nums.some((v) => v === null)) {
      throw new AsmError(text, `${d} needs plain numbers`);
    }
    const v = nums[0]!;
    const pow = d === '.p2align' || (d === '.align' && arch !== 'x86');
    if (SPACE_DIRECTIVES.has(d) ? v > MAX_SPACE : pow ? v > 12 : v > 4096) {
      throw new AsmError(text, `${d} ${v} is too large for this assembler`);
    }
    return false;
  }
  throw new AsmError(
    text,
    `directive ${word} is not supported here (only data, .align/.balign/.p2align and .space/.skip/.zero)`,
  );
}

/** A hex, octal or decimal literal (no binary, no expression), or null. */
function plainNumber(s: string): number | null {
  const t = s.trim();
  const v = /^0[bB]/.test(t) ? null : gnuInt(t);
  return v === null ? null : Number(v);
}

const CHAR_LITERALS = new RegExp(CHAR_LITERAL, 'g');

/** An instruction's operands `rest`: no `:` or `{` where Keystone's parser loops on them. */
export function checkOperands(text: string, rest: string, arch: AsmArch): void {
  // character literals like ':' or '{' are harmless, so they are blanked out first
  const ops = rest.replace(CHAR_LITERALS, '0');
  if (arch === 'x86') {
    // AVX-512 {k} masks are of no use on i386, and a '{' sends Keystone into a loop.
    const brace = /[{}]/.exec(ops);
    if (brace) throw new AsmError(text, `unexpected "${brace[0]}"`);
    // a ':' must follow a segment register (%gs:0x10, gs:[0x10]) — anything else hangs AT&T.
    const re = /:/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(ops))) {
      const before = ops.slice(0, m.index);
      if (!/%?\b[cdefgs]s\s*$/i.test(before)) {
        throw new AsmError(text, 'unexpected ":" (only a segment override like %gs:0x10 may use one)');
      }
    }
  } else {
    // ':' only in #:lower16:sym / #:upper16:sym and [rN:align]; elsewhere Keystone can hang.
    const stripped = ops.replace(/#:(?:lower|upper)16:/gi, '#').replace(/\[\s*\w+\s*:\s*\d+\s*\]/g, '[]');
    if (stripped.includes(':')) throw new AsmError(text, 'unexpected ":"');
  }
}

const EXPR_TOKEN = new RegExp(
  String.raw`^\s*(?:(0[xX][0-9a-fA-F]+|0[bB][01]+|[0-9]+)(?![A-Za-z0-9_])|(${CHAR_LITERAL})|([A-Za-z_.][A-Za-z0-9_.$]*)|(<<|>>|[-+*\/%|&^~!()]))`,
);

/**
 * Is `e` a plain GNU expression (numbers, symbols, character literals, + - * / % << >> | & ^,
 * unary - ~ !, parentheses)? Keystone loops forever on a malformed one in a data directive.
 */
export function isSimpleExpr(e: string): boolean {
  let rest = e;
  let wantOperand = true;
  let depth = 0;
  while (rest.trim() !== '') {
    const m = EXPR_TOKEN.exec(rest);
    if (!m) return false;
    rest = rest.slice(m[0].length);
    const op = m[4];
    if (op === undefined) {
      if (!wantOperand) return false;
      wantOperand = false;
    } else if (op === '(') {
      if (!wantOperand) return false;
      depth++;
    } else if (op === ')') {
      if (wantOperand || depth === 0) return false;
      depth--;
    } else if (wantOperand) {
      if (!['-', '+', '~', '!'].includes(op)) return false;
    } else wantOperand = true;
  }
  return !wantOperand && depth === 0;
}
