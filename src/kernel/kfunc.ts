// Kernel C-level functions are generator functions so that the debugger can stop
// inside them and the tracer sees every call and return. A function yields:
//   - POINT at each step worth stopping at (a "line" of the C function), and
//   - SCHEDULE where the C code calls schedule(): the task gives up the CPU and
//     the generator resumes when the scheduler picks the task again.
// Callees are entered with `yield* k.call('name', callee(...))`.

export type KYield =
  | { readonly op: 'point'; readonly fn: string; readonly text: string }
  | { readonly op: 'schedule' };

export type KGen<T = number> = Generator<KYield, T, void>;

export const SCHEDULE: KYield = { op: 'schedule' };
