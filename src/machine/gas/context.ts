// What instruction encoders need from the layout pass.

import type { EvalEnv } from './expr.js';
import type { InsnMode, Pool, SymbolDef } from './frags.js';

export interface InsnContext {
  /** Address the instruction is laid out at. */
  readonly addr: number;
  /** The emit pass (addresses are final): check ranges and report every error. */
  readonly final: boolean;
  /** Size the instruction had in the previous pass: the encoding may not be shorter (0 = none). */
  readonly minSize: number;
  /** Symbol values (Thumb functions have bit 0 set, as in data). */
  readonly env: EvalEnv;
  /** Whether an identifier names a symbol (registers never do). */
  isSymbol(name: string): boolean;
  symbol(name: string): SymbolDef | undefined;
  /** Encodes one instruction with keystone; throws ReasonError with keystone's reason. */
  ks(text: string, mode: InsnMode, addr: number): Uint8Array;
  /** Reserves a literal pool slot; returns its address, or NaN while the pool is not yet placed. */
  poolSlot(pool: Pool, key: string, value: number): number;
}
