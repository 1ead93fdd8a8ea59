// rseq (kernel/rseq.c): registered by name, like every syscall (ARM 398, i386 386).

import { syscallHandlers } from '../kernel.js';
import { sys_rseq } from '../rseq.js';

syscallHandlers.set('rseq', (k, t, [rseq, len, flags, sig]) => k.call('sys_rseq', sys_rseq(k, t, rseq!, len!, flags!, sig!)));
