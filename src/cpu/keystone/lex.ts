// Lexical pieces of GNU-style assembler source shared by the splitter, the radix rewrite
// and the guards: where a string or character literal ends (so that `;`, `,`, `#`, `:` or
// digits inside one are never taken for syntax), and what an integer literal is worth.

/** A character literal as GNU as reads it — 'c, 'c' or '\n' — as regex source, for embedding. */
export const CHAR_LITERAL = String.raw`'(?:\\.|[^\\])'?`;

/**
 * If `text[i]` opens a string ("…" with backslash escapes) or a character literal ('c, 'c'
 * or '\n'), the index just past it, else null. The result may exceed text.length when the
 * literal is cut off. An unclosed string runs to the end of `text`; with `stopAtNewline`
 * it stops at a newline instead, which it takes in.
 */
export function literalEnd(text: string, i: number, stopAtNewline = false): number | null {
  const n = text.length;
  if (text[i] === '"') {
    let j = i + 1;
    while (j < n && text[j] !== '"' && !(stopAtNewline && text[j] === '\n')) j += text[j] === '\\' ? 2 : 1;
    return j + 1;
  }
  if (text[i] === "'") {
    let j = i + 1;
    j += text[j] === '\\' ? 2 : 1;
    if (text[j] === "'") j += 1;
    return j;
  }
  return null;
}

/**
 * Split source on `;` and newlines outside strings and character literals, dropping
 * comments (`#` for x86, `@` for ARM/Thumb, and C-style). Pieces are trimmed; empty ones
 * are dropped.
 */
export function splitStatements(source: string, lineComment: '#' | '@'): string[] {
  const out: string[] = [];
  let cur = '';
  let i = 0;
  const n = source.length;
  while (i < n) {
    const c = source[i]!;
    const end = literalEnd(source, i, true);
    if (end !== null) {
      cur += source.slice(i, end);
      i = end;
    } else if (c === '/' && source[i + 1] === '*') {
      const close = source.indexOf('*/', i + 2);
      const body = source.slice(i, close < 0 ? n : close + 2);
      // a block comment spanning lines still ends the statement at each newline
      if (body.includes('\n')) {
        out.push(cur);
        cur = '';
      } else cur += ' ';
      i = close < 0 ? n : close + 2;
    } else if (c === lineComment) {
      while (i < n && source[i] !== '\n') i++;
    } else if (c === ';' || c === '\n') {
      out.push(cur);
      cur = '';
      i++;
    } else {
      cur += c;
      i++;
    }
  }
  out.push(cur);
  return out.map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Split a directive's arguments on commas outside strings and character literals (trimmed). */
export function splitArgs(rest: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < rest.length; ) {
    const end = literalEnd(rest, i);
    if (end !== null) {
      cur += rest.slice(i, end);
      i = end;
      continue;
    }
    if (rest[i] === ',') {
      out.push(cur.trim());
      cur = '';
    } else cur += rest[i];
    i++;
  }
  out.push(cur.trim());
  return out.length === 1 && out[0] === '' ? [] : out;
}

/** The value of a GNU as integer literal — 0x hex, 0b binary, 0-prefixed octal, decimal — or null. */
export function gnuInt(tok: string): bigint | null {
  if (/^(?:0[xX][0-9a-fA-F]+|0[bB][01]+|0|[1-9][0-9]*)$/.test(tok)) return BigInt(tok);
  if (/^0[0-7]+$/.test(tok)) return BigInt('0o' + tok.slice(1));
  return null;
}
