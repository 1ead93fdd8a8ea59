// trapdoor demo fork: glibc's real fork sequence, narrated from the trap to the reaping of the zombie.
// trapdoor demo kthread: a kernel thread from kthread_create to kthread_stop (demo-kthread.ts).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import pc from 'picocolors';
import { kernelArch } from '../../arch/kernel-arch.js';
import { projectRoot } from '../../cpu/libs.js';
import { assembleProgram } from '../../machine/gas/index.js';
import { bootProgram } from '../../kernel/program.js';
import { runKernel } from '../../kernel/entry.js';
import { PROGRAM_PATH } from '../../kernel/boot.js';
import { narrate } from '../../trace/narrate.js';
import { runKthreadDemo } from './demo-kthread.js';

export function register(program: Command): void {
  program
    .command('demo')
    .description('guided demos of the kernel path; `fork` follows clone() from the trap to wait4 reaping the zombie, `kthread` a kernel thread from kthread_create to kthread_stop')
    .argument('[name]', 'demo to run (fork, kthread)', 'fork')
    .addOption(new Option('--arch <arch>', 'architecture').choices(['arm', 'x86']).default('arm'))
    .option('--all', 'also show init and the boot (by default the story starts when /bin/program runs)')
    .addHelpText('after', '\nExamples:\n  trapdoor demo fork\n  trapdoor demo fork --arch x86\n  trapdoor demo kthread --arch x86')
    .action((name: string, o: { arch: 'arm' | 'x86'; all?: boolean }) => {
      if (name === 'kthread') {
        const code = runKthreadDemo(kernelArch(o.arch), (s) => process.stdout.write(s + '\n'), !!o.all);
        if (code) process.exitCode = code;
        return;
      }
      if (name !== 'fork') {
        process.stderr.write(`trapdoor demo: unknown demo "${name}" (available: fork, kthread)\n`);
        process.exit(1);
      }
      const arch = kernelArch(o.arch);
      const file = join(projectRoot(), 'asm', o.arch, 'demo-fork.S');
      const img = assembleProgram(readFileSync(file, 'utf8'), { arch: o.arch, fileName: `asm/${o.arch}/demo-fork.S` });
      const k = bootProgram(arch, img, { keepTrace: false });
      try {
        const out = (s: string) => process.stdout.write(s + '\n');
        out(pc.bold(`trapdoor demo fork — ${o.arch === 'arm' ? 'ARM (EABI)' : 'i386'}: glibc's fork sequence under the modelled kernel`));
        out(pc.dim(`program: asm/${o.arch}/demo-fork.S — clone(0x01200011, 0, 0, 0, &tid); the child writes and exit_group(42)s; the parent wait4s.`));
        out('');
        let on = !!o.all;
        k.trace.on((e) => {
          if (!on && e.t === 'sys_exit' && e.name === 'execve' && k.execs.get(PROGRAM_PATH) === e.pid) {
            on = true;
            out(pc.dim(`[pid ${e.pid}] execve("${PROGRAM_PATH}") — the demo program starts`));
            return;
          }
          if (on) {
            const line = narrate(e, k);
            if (line !== null) out(line);
          }
        });
        k.onWrite = (_fd, data) => out(pc.green(`  ┃ output: ${JSON.stringify(new TextDecoder().decode(data))}`));
        const stop = runKernel(k, { budget: 10_000_000 });
        out('');
        out(pc.bold(`run ended (${stop.kind}); COW: ${k.mm.stats.cowCopies} page(s) copied, ${k.mm.stats.cowReuses} reused; program exit status ${k.exits.find((e) => e.pid === k.execs.get(PROGRAM_PATH))?.code !== undefined ? (k.exits.find((e) => e.pid === k.execs.get(PROGRAM_PATH))!.code >> 8) & 0xff : '?'}`));
      } finally {
        k.close();
      }
    });
}
