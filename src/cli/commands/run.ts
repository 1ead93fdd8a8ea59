// trapdoor run FILE.S --arch arm|x86: assemble a user program, run it under the
// modelled kernel as a child of init, forward its output, exit with its status.

import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { kernelArch } from '../../arch/kernel-arch.js';
import { assembleProgram } from '../../machine/gas/index.js';
import { describeSignal, runProgram } from '../../kernel/program.js';

export function register(program: Command): void {
  program
    .command('run')
    .description('assemble a user program (GNU as syntax) and run it under the modelled kernel')
    .argument('<file>', 'assembly source, e.g. hello.S')
    .addOption(new Option('--arch <arch>', 'architecture').choices(['arm', 'x86']).makeOptionMandatory())
    .option('--budget <n>', 'instruction budget for the whole run (runaway loops stop here)', '50000000')
    .option('--quiet-exit', 'do not report a death by signal on stderr')
    .addHelpText('after', '\nExample:\n  trapdoor run examples/hello-arm.S --arch arm; echo $?\n\nThe program runs as pid 3, a child of init (pid 1); its exit status is trapdoor\'s (128 + N if signal N killed it).')
    .action((file: string, o: { arch: 'arm' | 'x86'; budget: string; quietExit?: boolean }) => {
      let src: string;
      try {
        src = readFileSync(file, 'utf8');
      } catch (e) {
        fail(`cannot read ${file}: ${(e as Error).message}`);
      }
      let img;
      try {
        img = assembleProgram(src, { arch: o.arch, fileName: file });
      } catch (e) {
        fail((e as Error).message);
      }
      const budget = Number(o.budget);
      if (!Number.isSafeInteger(budget) || budget <= 0) fail(`--budget must be a positive integer, not "${o.budget}"`);
      const arch = kernelArch(o.arch);
      const r = runProgram(arch, img, {
        budget,
      });
      try {
        for (const out of r.kernel.output) (out.fd === 2 ? process.stderr : process.stdout).write(out.data);
        if (r.stop === 'budget') {
          process.stderr.write(`trapdoor run: instruction budget of ${budget} spent — a runaway loop? (raise it with --budget)\n`);
          process.exitCode = 124;
          return;
        }
        if (r.signal && !o.quietExit) {
          const f = r.kernel.faults.find((x) => x.pid === r.pid);
          process.stderr.write(`trapdoor run: pid ${r.pid} killed by ${describeSignal(r.signal)}${f ? ` (${f.why})` : ''}\n`);
        }
        process.exitCode = r.status;
      } finally {
        r.kernel.close();
      }
    });
}

function fail(msg: string): never {
  process.stderr.write(`trapdoor run: ${msg}\n`);
  process.exit(1);
}
