// The clone flag combinations copy_process rejects with -EINVAL (kernel/fork.c,
// 3.18), each from a guest program: the call returns -22 and no task is made.
// Valid neighbours of each rule succeed, so the checks are not over-broad.
import { describe, expect, it } from 'vitest';
import { kernelArch } from '../../src/arch/kernel-arch.js';
import {
  CLONE_FS, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUSER, CLONE_PARENT, CLONE_SIGHAND, CLONE_THREAD, CLONE_VM,
} from '../../src/kernel/fork.js';
import { bootKernel } from '../../src/kernel/index.js';
import { assembleProgram } from '../../src/machine/gas/index.js';
import {
  ARCHES, exitNegResult, ifZero, pool, programExit, runToIdle, storeResult, sym, syscall, uread32, withBoot, word, type Arch,
} from './helpers.js';

const SIGCHLD = 17, EINVAL = -22;

/** clone(flags, 0, 0, 0, 0); the child exits 0 at once; the parent exits with -result (22 for -EINVAL). */
function cloneProgram(arch: Arch, flags: number): string {
  return `.text
_start:
${syscall(arch, 'clone', flags, 0, 0, 0, 0)}
${ifZero(arch, 'child')}
${exitNegResult(arch)}
child:
${syscall(arch, 'exit', 0)}
${pool(arch)}`;
}

const REJECTED: [string, number][] = [
  ['CLONE_NEWNS | CLONE_FS', CLONE_NEWNS | CLONE_FS | SIGCHLD],
  ['CLONE_NEWUSER | CLONE_FS', CLONE_NEWUSER | CLONE_FS | SIGCHLD],
  ['CLONE_THREAD without CLONE_SIGHAND', CLONE_THREAD | CLONE_VM],
  ['CLONE_SIGHAND without CLONE_VM', CLONE_SIGHAND | SIGCHLD],
  ['CLONE_THREAD without CLONE_SIGHAND or CLONE_VM', CLONE_THREAD | SIGCHLD],
  ['CLONE_SIGHAND | CLONE_VM with CLONE_NEWPID', CLONE_SIGHAND | CLONE_VM | CLONE_NEWPID | SIGCHLD],
  ['CLONE_SIGHAND | CLONE_VM with CLONE_NEWUSER', CLONE_SIGHAND | CLONE_VM | CLONE_NEWUSER | SIGCHLD],
  ['CLONE_THREAD | CLONE_SIGHAND | CLONE_VM with CLONE_NEWPID', CLONE_THREAD | CLONE_SIGHAND | CLONE_VM | CLONE_NEWPID],
  ['CLONE_THREAD | CLONE_SIGHAND | CLONE_VM with CLONE_NEWUSER', CLONE_THREAD | CLONE_SIGHAND | CLONE_VM | CLONE_NEWUSER],
];

const ACCEPTED: [string, number][] = [
  ['CLONE_NEWNS alone', CLONE_NEWNS | SIGCHLD],
  ['CLONE_FS alone', CLONE_FS | SIGCHLD],
  ['CLONE_SIGHAND | CLONE_VM', CLONE_SIGHAND | CLONE_VM | SIGCHLD],
  ['CLONE_NEWPID without CLONE_SIGHAND', CLONE_NEWPID | SIGCHLD],
];

describe.each(ARCHES)('%s clone flags', (arch) => {
  it.each(REJECTED)('%s: -EINVAL, and no task is created', (_name, flags) => {
    withBoot(arch, cloneProgram(arch, flags), { keepTrace: true }, ({ k }) => {
      runToIdle(k);
      expect(programExit(k)).toBe(-EINVAL << 8);
      const parent = k.execs.get('/bin/program')!;
      expect(k.trace.events.filter((e) => e.t === 'event' && e.name === 'sched_process_fork' && e.fields.pid === parent)).toHaveLength(0);
      expect(k.exits.map((e) => e.pid)).toEqual([parent]);
    });
  });

  it.each(ACCEPTED)('%s: accepted (the parent gets a pid)', (_name, flags) => {
    withBoot(arch, cloneProgram(arch, flags), {}, ({ k }) => {
      runToIdle(k);
      const parent = k.execs.get('/bin/program')!;
      const child = k.exits.find((e) => e.pid !== parent);
      expect(child).toBeDefined();
      expect(programExit(k)).toBe(((-child!.pid) & 0xff) << 8); // exit_group(-pid)
    });
  });

  it('CLONE_PARENT from init (pid 1): -EINVAL — init may not create siblings', () => {
    // A stand-in /sbin/init that tries it, keeps the result and sleeps.
    const initSrc = `.text
_start:
${syscall(arch, 'clone', CLONE_PARENT | SIGCHLD, 0, 0, 0, 0)}
${storeResult(arch, 'result')}
again:
${syscall(arch, 'pause')}
        ${arch === 'arm' ? 'b' : 'jmp'} again
${pool(arch)}
        .data
${word(arch, 'result', 1)}`;
    const init = assembleProgram(initSrc, { arch, fileName: 'init.S' });
    const k = bootKernel(kernelArch(arch), init, assembleProgram(cloneProgram(arch, 0), { arch }), {});
    try {
      runToIdle(k);
      const initTask = k.pidHash.get(1)!;
      expect(uread32(k, initTask, sym(init, 'result'))).toBe(EINVAL >>> 0);
      expect([...k.pidHash.keys()].sort((a, b) => a - b)).toEqual([0, 1, 2]);
    } finally {
      k.close();
    }
  });

  it('CLONE_PARENT from an ordinary process: the child is its sibling, a child of init', () => {
    const src = `.text
_start:
${syscall(arch, 'clone', CLONE_PARENT | SIGCHLD, 0, 0, 0, 0)}
${ifZero(arch, 'child')}
${syscall(arch, 'exit_group', 0)}
child:
${syscall(arch, 'getppid')}
${exitNegResult(arch)}
${pool(arch)}`;
    withBoot(arch, src, {}, ({ k }) => {
      runToIdle(k);
      const parent = k.execs.get('/bin/program')!;
      const child = k.exits.find((e) => e.pid !== parent)!;
      expect(child.code).toBe(((-1) & 0xff) << 8); // exit_group(-getppid()) == exit_group(-1): its parent is init
      expect(k.pidHash.has(child.pid)).toBe(false); // and init reaped it
    });
  });
});
