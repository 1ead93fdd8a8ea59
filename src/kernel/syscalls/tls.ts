// set_thread_area / get_thread_area (arch/x86/kernel/tls.c): i386 only. The
// architecture does the work on its thread_struct; an arch without TLS
// segments has no such syscall numbers (ARM's table lacks them).

import { syscallHandlers } from '../kernel.js';
import { userAccess } from '../uaccess.js';

const ENOSYS = -38;

syscallHandlers.set('set_thread_area', (k, t, [uInfo]) =>
  (function* () {
    const ta = k.arch.threadArea;
    if (!ta) return ENOSYS;
    const r = ta.set(k.mem, t, uInfo!, true, userAccess(k, t));
    yield* k.step('sys_set_thread_area', r < 0 ? `error ${r}` : `TLS descriptor installed in thread.tls_array and the GDT`);
    return r;
  })(),
);

syscallHandlers.set('get_thread_area', (k, t, [uInfo]) =>
  (function* () {
    const ta = k.arch.threadArea;
    if (!ta) return ENOSYS;
    return ta.get(k.mem, t, uInfo!, userAccess(k, t));
  })(),
);
