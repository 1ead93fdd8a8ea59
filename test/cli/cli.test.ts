// The CLI as a user runs it: the bundled dist/trapdoor.mjs (npm test builds it first).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

function td(...args: string[]) {
  if (!existsSync('dist/trapdoor.mjs')) throw new Error('dist/trapdoor.mjs is missing: run `npm test` (it builds the CLI first)');
  // NO_COLOR: picocolors colours output when CI is set (as in CI runs); the tests read plain text.
  const r = spawnSync(process.execPath, ['bin/trapdoor.mjs', ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('trapdoor asm / disasm', () => {
  it('prints the issue\'s three encodings', () => {
    expect(td('asm', '--arch', 'x86', '--syntax', 'att', 'movl $-8192,%eax; andl %esp,%eax').out).toBe('b8 00 e0 ff ff 21 e0\n');
    expect(td('asm', '--arch', 'arm', 'mov r7, #120; svc #0').out).toBe('78 70 a0 e3 00 00 00 ef\n');
    expect(td('asm', '--arch', 'x86', '--syntax', 'att', 'int $128').out).toBe('cd 80\n');
  });
  it('disassembles one instruction per line', () => {
    const r = td('disasm', '--arch', 'arm', '78', '70', 'a0', 'e3', '00', '00', '00', 'ef');
    expect(r.out).toBe('00000000: 78 70 a0 e3  mov r7, #0x78\n00000004: 00 00 00 ef  svc #0\n');
  });
  it('reports malformed assembly with the instruction and the reason, exit 1, no stack trace', () => {
    const r = td('asm', '--arch', 'arm', 'mov r7, #120; bogus r1');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^trapdoor asm: cannot assemble "bogus r1": .+/);
    expect(r.err).not.toMatch(/\n\s+at /);
  });
  it('lists the valid architectures for an unknown --arch', () => {
    const r = td('asm', '--arch', 'mips', 'nop');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/arm, thumb, x86/);
  });
  it('rejects odd-length and non-hex input to disasm, naming the token', () => {
    expect(td('disasm', '--arch', 'arm', '7870a0e').err).toMatch(/"7870a0e" has an odd number of hex digits/);
    expect(td('disasm', '--arch', 'arm', 'zz').err).toMatch(/"zz" is not hex/);
  });
  it('explains every option in --help, with an example', () => {
    for (const cmd of ['asm', 'disasm', 'run', 'demo']) {
      const r = td(cmd, '--help');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/Example/);
      expect(r.out).toMatch(/--arch/);
    }
  });
});

describe('trapdoor run / demo', () => {
  it('runs hello on both arches: prints hello, exits 3', () => {
    for (const arch of ['arm', 'x86']) {
      const r = td('run', `examples/hello-${arch}.S`, '--arch', arch);
      expect(r.out).toBe('hello\n');
      expect(r.code).toBe(3);
    }
  });
  it('reports a runaway loop at its budget (exit 124) and a bad file clearly', () => {
    const r = td('run', 'test/cli/loop-arm.S', '--arch', 'arm', '--budget', '10000');
    expect(r.code).toBe(124);
    expect(r.err).toMatch(/instruction budget of 10000 spent/);
    const bad = td('run', 'no/such/file.S', '--arch', 'arm');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^trapdoor run: cannot read no\/such\/file.S/);
  });
  it('demo fork narrates copy_process and ends with the child\'s status 42', () => {
    for (const arch of ['arm', 'x86']) {
      const r = td('demo', 'fork', '--arch', arch);
      expect(r.code).toBe(0);
      for (const s of ['copy_process', 'dup_task_struct', 'copy_mm', 'sched_process_fork', 'EXIT_ZOMBIE', 'reaping zombie', 'program exit status 42']) expect(r.out).toContain(s);
    }
  });
  it('demo kthread narrates kthread_create → kthreadd → copy_process (PF_KTHREAD, no mm) → wake → kthread_stop', () => {
    for (const arch of ['arm', 'x86']) {
      const r = td('demo', 'kthread', '--arch', arch);
      expect(r.code).toBe(0);
      for (const s of [
        'kthread_create_on_node', 'taken off kthread_create_list', 'create_kthread', 'PF_FORKNOEXEC and PF_KTHREAD set',
        'a kernel thread gets no mm', 'schedule_tail', 'sleeps TASK_UNINTERRUPTIBLE until woken', 'sched_wakeup: comm=demo_worker',
        'KTHREAD_SHOULD_STOP set', 'kthread_should_stop() is true', 'reaped at once (EXIT_DEAD)', 'reaped by kthreadd and released',
      ]) expect(r.out).toContain(s);
      // the order of the story
      const at = (s: string) => r.out.indexOf(s);
      expect(at('kthread_create_on_node')).toBeLessThan(at('create_kthread'));
      expect(at('create_kthread')).toBeLessThan(at('sleeps TASK_UNINTERRUPTIBLE until woken'));
      expect(at('sleeps TASK_UNINTERRUPTIBLE until woken')).toBeLessThan(at('demo_threadfn() {'));
      expect(at('demo_threadfn() {')).toBeLessThan(at('KTHREAD_SHOULD_STOP set'));
      // the worker's rounds (its data word in guest memory) are what kthread_stop returned
      const m = /ran (\d+) round\(s\); kthread_stop returned (-?\d+)/.exec(r.out);
      expect(m).not.toBeNull();
      expect(Number(m![1])).toBeGreaterThan(0);
      expect(m![2]).toBe(m![1]);
      expect(r.out).toContain(`kthread_stop() = ${m![1]}`);
    }
  });
});
