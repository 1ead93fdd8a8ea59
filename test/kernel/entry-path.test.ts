// Kernel memory in guest RAM, read by virtual address through the page tables.
// (Stepping the entry asm through GET_THREAD_INFO on a real CPU is tested per
// arch in test/arch/<arch>/entry.test.ts.)
import { describe, expect, it } from 'vitest';
import { kernelArch } from '../../src/arch/kernel-arch.js';
import { assembleProgram } from '../../src/machine/gas/index.js';
import { bootProgram } from '../../src/kernel/program.js';

const PROGRAMS = {
  arm: `.text\n_start: mov r7, #20\n svc #0\n mov r7, #1\n svc #0\n`,
  x86: `.text\n_start: movl $20, %eax\n int $0x80\n movl %eax, %ebx\n movl $1, %eax\n int $0x80\n`,
};
describe.each(['arm', 'x86'] as const)('%s kernel memory', (arch) => {
  it('task_struct offsets follow the layout table, and kernel memory dumps by virtual address', () => {
    const k = bootProgram(kernelArch(arch), assembleProgram(PROGRAMS[arch], { arch }));
    try {
      const init = k.pidHash.get(1)!;
      const raw = k.readVirt(init.va + k.taskLayout.offsetOf('pid'), 4);
      expect(new DataView(raw.buffer).getInt32(0, true)).toBe(1);
      const comm = k.readVirt(init.va + k.taskLayout.offsetOf('comm'), 4);
      expect(new TextDecoder().decode(comm)).toBe('init');
      // offsets are increasing, aligned, and inside the struct
      let last = -1;
      for (const f of k.taskLayout.fields.filter((f) => !f.name.includes('.'))) {
        expect(f.offset).toBeGreaterThan(last);
        if (typeof f.type === 'string' && f.type !== 'u8') expect(f.offset % 4).toBe(0);
        last = f.offset;
      }
      expect(last).toBeLessThan(k.taskLayout.size);
    } finally {
      k.close();
    }
  });
});
