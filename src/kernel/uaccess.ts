// The kernel's user-memory access for a task, in the shape the arch code takes
// (UserAccess in src/arch/types.ts): copy_from_user / copy_to_user on its mm.

import type { UserAccess } from '../arch/types.js';
import type { Kernel } from './kernel.js';
import type { Task } from './task.js';

export function userAccess(k: Kernel, t: Task): UserAccess {
  return {
    read: (va, len) => k.mm.copyFromUser(t.mm, va >>> 0, len),
    write: (va, bytes) => k.mm.copyToUser(t.mm, va >>> 0, bytes),
  };
}
