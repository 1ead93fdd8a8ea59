// Errors the assembler front end reports: always tied to one source line.

/** Where a statement came from: the file, its 1-based line and the line's text. */
export interface SrcLoc {
  readonly file: string;
  readonly line: number;
  readonly text: string;
}

/** An assembly error. message: `FILE:LINE: <reason>\n    <source line>`. */
export class GasError extends Error {
  readonly file: string;
  readonly line: number;
  readonly text: string;
  readonly reason: string;

  constructor(loc: SrcLoc, reason: string) {
    super(`${loc.file}:${loc.line}: ${reason}\n    ${loc.text.trim()}`);
    this.name = 'GasError';
    this.file = loc.file;
    this.line = loc.line;
    this.text = loc.text;
    this.reason = reason;
  }
}

/** An error found below the statement level (e.g. in an expression); the caller adds the location. */
export class ReasonError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'ReasonError';
  }
}

/** Runs fn and turns a ReasonError (or any stray exception) into a GasError at loc. */
export function at<T>(loc: SrcLoc, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof GasError) throw e;
    if (e instanceof ReasonError) throw new GasError(loc, e.reason);
    throw new GasError(loc, e instanceof Error ? e.message : String(e));
  }
}
