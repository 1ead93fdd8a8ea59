// The AT&T half of the radix guard. The AT&T engine had ks_option called on it (that is how
// AT&T is chosen), which switches its radix to 16: `movl $-8192,%eax` becomes b8 6e 7e ff ff,
// `12(%esp)` becomes 0x12(%esp), `int $128` assembles to nothing and reports success. Hex is
// always read right, so every other literal is rewritten to hex before Keystone sees it.
// (The engine half: engines.ts; the proof that both work: startup.ts.)

import { gnuInt, literalEnd } from './lex.js';

// `$` may continue an identifier but not start one: in AT&T it marks an immediate (`$12`).
const IDENT_START = /[A-Za-z_.]/;
const IDENT_CHAR = /[A-Za-z0-9_.$]/;

/**
 * AT&T only: rewrite decimal, GNU octal (017) and binary (0b101) literals to hex, so the
 * AT&T engine's radix-16 bug cannot bite (`$-8192` -> `$-0x2000`, `12(%esp)` -> `0xc(%esp)`).
 * Identifiers (labels with digits), %registers (incl. %st(1)), strings and character
 * literals are left alone; so are hex literals and numbers with other suffixes (1f/1b local
 * labels, which Keystone rejects anyway).
 */
export function decimalsToHex(text: string): string {
  let out = '';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    const end = literalEnd(text, i);
    if (end !== null) {
      out += text.slice(i, end);
      i = end;
    } else if (c === '%') {
      // a register: %eax, %st, %st(1), %cr0, %mm7
      let j = i + 1;
      while (j < n && IDENT_CHAR.test(text[j]!)) j++;
      const m = /^\(\s*\d+\s*\)/.exec(text.slice(j));
      if (text.slice(i + 1, j).toLowerCase() === 'st' && m) j += m[0].length;
      out += text.slice(i, j);
      i = j;
    } else if (IDENT_START.test(c)) {
      let j = i + 1;
      while (j < n && IDENT_CHAR.test(text[j]!)) j++;
      out += text.slice(i, j);
      i = j;
    } else if (/[0-9]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_]/.test(text[j]!)) j++;
      out += literalToHex(text.slice(i, j));
      i = j;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

function literalToHex(tok: string): string {
  // hex needs nothing, and a single digit is the same in every radix
  if (/^(?:0[xX]|[0-9]$)/.test(tok)) return tok;
  const v = gnuInt(tok);
  return v === null ? tok : '0x' + v.toString(16);
}
