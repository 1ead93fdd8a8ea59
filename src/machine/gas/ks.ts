// The keystone boundary: one instruction in, bytes out, errors as ReasonError.

import { AsmError, assembleOne } from '../../cpu/keystone/index.js';
import { ReasonError } from './errors.js';
import type { InsnMode } from './frags.js';
import type { KsFn } from './layout.js';

/** A keystone encoder with a per-program cache (layout passes re-encode the same text). */
export function makeKs(): KsFn {
  const cache = new Map<string, Uint8Array | ReasonError>();
  return (text, mode, addr) => {
    const key = `${mode}\u0000${addr}\u0000${text}`;
    let hit = cache.get(key);
    if (hit === undefined) {
      hit = encode(text, mode, addr);
      cache.set(key, hit);
    }
    if (hit instanceof ReasonError) throw hit;
    return hit;
  };
}

function encode(text: string, mode: InsnMode, addr: number): Uint8Array | ReasonError {
  const opts =
    mode === 'arm' || mode === 'thumb'
      ? { arch: mode, addr }
      : { arch: 'x86' as const, syntax: mode === 'att' ? ('att' as const) : ('intel' as const), addr };
  try {
    // assembleOne hands the whole text to one keystone call: an IT block wrapper
    // ("it eq\nmoveq r0, #1") must be assembled together, not split.
    const bytes = assembleOne(text, opts);
    if (bytes.length === 0) return new ReasonError(`cannot assemble \`${text.replace(/\n/g, '; ')}': keystone produced no bytes`);
    return bytes;
  } catch (e) {
    if (e instanceof AsmError) return new ReasonError(`cannot assemble \`${text.replace(/\n/g, '; ')}': ${e.reason}`);
    throw e;
  }
}
