// trapdoor benchmarks, both architectures, against qemu-user as the reference.
//
// What is measured, and why:
//   loop    raw guest speed: a 3-instruction add/sub/branch loop (bench/programs/loop-*.S)
//           → guest instructions per second. Unicorn is QEMU's TCG, so this shows what
//           trapdoor's per-instruction counter hook (native/td_hooks.c) costs.
//   getpid  a syscall round trip: trap, guest entry asm, TypeScript dispatch, return
//           → µs per syscall. Everything the model adds sits on this path.
//   fork    clone(SIGCHLD) + child exit_group(0) + parent wait4 → µs per cycle: the
//           modelled process path (copy_process, COW, schedule, exit, reap).
//   Machine the bare snippet Machine (src/machine): step() — the debugger's single step —
//           in µs per instruction, against run() on the same loop; and run() with one
//           range-bounded JS code hook that never fires (the kernel has such hooks).
// The same .S files are run by trapdoor (runProgram, in this process: what `trapdoor run`
// calls) and, assembled by GNU as/ld, by qemu-arm / qemu-i386 (a fresh process per run).
// For x86 the GNU binary is also run directly on the host when it can (an i386 binary on an
// x86-64 kernel), as context only. Under trapdoor, exact counts per operation are reported
// too — guest instructions, CPU entries (uc_emu_start calls), TLB-fill hook calls — to show
// where the time goes.
//
// Method: deterministic workloads; every measurement is warmed up once, then repeated REPS
// times, and the median is reported. Per-operation costs are differential,
// (median time with N iterations − median time with 0 iterations) / N, so fixed costs —
// trapdoor's boot and init's fork+exec, qemu's process start-up — cancel out; they are
// reported separately as "fixed".
//
// Options: --quick (smaller N, 3 repetitions: a smoke run, not for the README),
//          --only loop,getpid,fork,machine   --json FILE (default bench/results.json).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { archCpu } from '../src/arch/index.js';
import { kernelArch } from '../src/arch/kernel-arch.js';
import { projectRoot } from '../src/cpu/libs.js';
import { runProgram } from '../src/kernel/program.js';
import { assembleProgram } from '../src/machine/gas/index.js';
import { Machine } from '../src/machine/machine.js';
import { Unicorn } from '../src/cpu/unicorn.js';

type Arch = 'arm' | 'x86';
type Workload = 'loop' | 'getpid' | 'fork';
const ARCHES: Arch[] = ['arm', 'x86'];

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const arg = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const only = new Set((arg('--only') ?? 'loop,getpid,fork,machine').split(','));
const root = projectRoot();
const jsonPath = arg('--json') ?? join(root, 'bench', 'results.json');

const REPS = quick ? 3 : 5;
/**
 * Iterations per workload and runner, chosen so that the N-iteration run takes ~0.2–1 s
 * here: the differential then dwarfs start-up noise. The runners differ by up to 20× in
 * speed, so they get different N; the per-operation figure does not depend on N.
 */
type Runner = 'trapdoor' | 'qemu' | 'host';
const FULL: Record<Workload, Record<Runner, number>> = {
  loop: { trapdoor: 10_000_000, qemu: 200_000_000, host: 1_000_000_000 },
  getpid: { trapdoor: 100_000, qemu: 1_000_000, host: 100_000 },
  fork: { trapdoor: 3_000, qemu: 500, host: 3_000 },
};
const ITERS = Object.fromEntries(
  Object.entries(FULL).map(([w, byRunner]) => [
    w,
    Object.fromEntries(Object.entries(byRunner).map(([r, n]) => [r, quick ? Math.ceil(n / 10) : n])),
  ]),
) as typeof FULL;
const STEPS = quick ? 5_000 : 50_000;

// ---------------------------------------------------------------- helpers

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Warm up once, then `REPS` timed runs; returns the median seconds and the last result. */
function measure<T>(run: () => { seconds: number; value: T }): { seconds: number; value: T; times: number[] } {
  run();
  const times: number[] = [];
  let value!: T;
  for (let i = 0; i < REPS; i++) {
    const r = run();
    times.push(r.seconds);
    value = r.value;
  }
  return { seconds: median(times), value, times };
}

function timed<T>(f: () => T): { seconds: number; value: T } {
  const t0 = process.hrtime.bigint();
  const value = f();
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, value };
}

const source = (w: Workload, arch: Arch, iters: number): string =>
  `.equ ITERS, ${iters}\n` + readFileSync(join(root, 'bench', 'programs', `${w}-${arch}.S`), 'utf8');

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

const warnings: string[] = [];
function loud(msg: string): void {
  warnings.push(msg);
  process.stderr.write(`\n!!! ${msg}\n\n`);
}

// ---------------------------------------------------------------- trapdoor (runProgram)

// Two counters, so the table can say where the time goes (each is one increment, ~free):
// uc_emu_start calls (every stop into JS and restart of the CPU costs µs), and calls of the
// kernel's TLB-fill hook (a JS callback per TLB miss: the guest page-table walk).
let cpuEntries = 0;
let tlbFills = 0;
const emuStart = Unicorn.prototype.emuStart;
Unicorn.prototype.emuStart = function (this: Unicorn, ...args: Parameters<typeof emuStart>) {
  cpuEntries++;
  return emuStart.apply(this, args);
};
const hookTlbFill = Unicorn.prototype.hookTlbFill;
Unicorn.prototype.hookTlbFill = function (this: Unicorn, fn: Parameters<typeof hookTlbFill>[0]) {
  return hookTlbFill.call(this, (va, type) => {
    tlbFills++;
    return fn(va, type);
  });
};

/** One run of a workload under the modelled kernel: wall seconds, guest instructions, CPU entries. */
function trapdoorOnce(arch: Arch, w: Workload, iters: number): { seconds: number; value: { insns: number; entries: number; fills: number } } {
  const prog = assembleProgram(source(w, arch, iters), { arch, fileName: `${w}-${arch}.S` });
  const [entries0, fills0] = [cpuEntries, tlbFills];
  const r = timed(() => runProgram(kernelArch(arch), prog, { budget: 1e12 }));
  const res = r.value;
  const insns = { insns: res.kernel.now, entries: cpuEntries - entries0, fills: tlbFills - fills0 };
  res.kernel.close();
  if (res.status !== 0 || res.stop !== 'idle') {
    throw new Error(`trapdoor ${w}-${arch} (ITERS=${iters}) ended with status ${res.status} (${res.stop})`);
  }
  return { seconds: r.seconds, value: insns };
}

// ---------------------------------------------------------------- GNU as/ld + qemu-user

const TOOLS: Record<Arch, { as: string[]; ld: string[]; qemu: string; native: boolean }> = {
  arm: { as: ['arm-linux-gnueabi-as'], ld: ['arm-linux-gnueabi-ld'], qemu: 'qemu-arm', native: false },
  x86: { as: ['i686-linux-gnu-as', '--32'], ld: ['i686-linux-gnu-ld', '-m', 'elf_i386'], qemu: 'qemu-i386', native: true },
};
const work = mkdtempSync(join(tmpdir(), 'trapdoor-bench-'));

/** Assembles and links a workload with GNU as/ld; null (and a loud warning) if the tools are missing. */
function gnuBinary(arch: Arch, w: Workload, iters: number): string | null {
  const t = TOOLS[arch];
  const missing = [t.as[0]!, t.ld[0]!].filter((c) => !which(c));
  if (missing.length) return null;
  const base = join(work, `${w}-${arch}-${iters}`);
  writeFileSync(`${base}.S`, source(w, arch, iters));
  for (const [cmd, ...args] of [
    [...t.as, '-o', `${base}.o`, `${base}.S`],
    [...t.ld, '-o', base, `${base}.o`],
  ]) {
    const r = spawnSync(cmd!, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  }
  return base;
}

function processOnce(cmd: string, args: string[]): { seconds: number; value: null } {
  const r = timed(() => spawnSync(cmd, args, { stdio: 'ignore' }));
  if (r.value.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.value.status ?? r.value.signal}`);
  return { seconds: r.seconds, value: null };
}

/** Does the host run this i386 binary itself? (needs IA32 emulation in the host kernel) */
function hostRuns(bin: string): boolean {
  return spawnSync(bin, [], { stdio: 'ignore' }).status === 0;
}

// ---------------------------------------------------------------- the table

interface Row {
  arch: Arch;
  workload: Workload | 'Machine.run' | 'Machine.run+hook' | 'Machine.step';
  unit: string;
  iters: Partial<Record<Runner, number>>;
  /** Per-operation figure in `unit`, for trapdoor, qemu-user, and the host (x86 only); null = not measured. */
  trapdoor: number | null;
  qemu: number | null;
  host: number | null;
  /** trapdoor / qemu for costs (µs), qemu / trapdoor for speeds (so > 1 = trapdoor is slower). */
  slowdown: number | null;
  /** Fixed cost per run (s): trapdoor boot+init, process start-up for qemu and the host;
   *  cli = `trapdoor run` as a command (Node start-up, loading, boot, init), loop only. */
  fixed: { trapdoor: number; qemu: number | null; host: number | null; cli?: number };
  /** Guest instructions per operation (trapdoor's exact count; the same code runs under qemu). */
  guestInsnsPerOp?: number;
  /** uc_emu_start calls per operation under trapdoor: JS → CPU transitions (each stop and restart costs µs). */
  cpuEntriesPerOp?: number;
  /** TLB-fill hook calls (JS) per operation under trapdoor. */
  tlbFillsPerOp?: number;
  note?: string;
  /** Every timed run in seconds (N iterations and 0 iterations), for the spread behind the medians. */
  raw: Record<string, number[]>;
}
const rows: Row[] = [];

function workload(arch: Arch, w: Workload): void {
  const n = ITERS[w];
  process.stderr.write(`  ${w}-${arch}: trapdoor …`);
  const td0 = measure(() => trapdoorOnce(arch, w, 0));
  const tdN = measure(() => trapdoorOnce(arch, w, n.trapdoor));
  const insnsPerOp = (tdN.value.insns - td0.value.insns) / n.trapdoor;
  const entriesPerOp = (tdN.value.entries - td0.value.entries) / n.trapdoor;
  const fillsPerOp = (tdN.value.fills - td0.value.fills) / n.trapdoor;
  const raw: Record<string, number[]> = { trapdoorN: tdN.times, trapdoor0: td0.times };
  const dts: Partial<Record<Runner, number>> = { trapdoor: tdN.seconds - td0.seconds };
  const fixed: Row['fixed'] = { trapdoor: td0.seconds, qemu: null, host: null };

  if (w === 'loop') {
    // The same empty program through the CLI, as a user runs it: the fixed cost of a command.
    const file = join(work, `cli-${arch}.S`);
    writeFileSync(file, source(w, arch, 0));
    const cli = measure(() => processOnce(process.execPath, [join(root, 'bin', 'trapdoor.mjs'), 'run', file, '--arch', arch]));
    fixed.cli = cli.seconds;
    raw.cli0 = cli.times;
  }

  const t = TOOLS[arch];
  const bin0 = gnuBinary(arch, w, 0);
  if (bin0) {
    const runners: [Runner, (bin: string) => [string, string[]]][] = [];
    if (which(t.qemu)) runners.push(['qemu', (bin) => [t.qemu, [bin]]]);
    if (t.native && hostRuns(bin0)) runners.push(['host', (bin) => [bin, []]]);
    for (const [runner, cmd] of runners) {
      process.stderr.write(` ${runner === 'qemu' ? t.qemu : 'host'} …`);
      const binN = gnuBinary(arch, w, n[runner])!;
      const z = measure(() => processOnce(...cmd(bin0)));
      const nn = measure(() => processOnce(...cmd(binN)));
      dts[runner] = nn.seconds - z.seconds;
      fixed[runner] = z.seconds;
      raw[`${runner}N`] = nn.times;
      raw[`${runner}0`] = z.times;
    }
  }
  process.stderr.write(' done\n');

  // loop: millions of guest instructions per second; the others: µs per operation. A
  // differential that is not positive is noise (the N-run was no slower than the 0-run).
  const per = (runner: Runner): number | null => {
    const d = dts[runner];
    if (d === undefined) return null;
    if (d <= 0) {
      loud(`${w}-${arch} under ${runner}: the N-iteration run was not slower than the empty one — noise; no figure`);
      return null;
    }
    return w === 'loop' ? (insnsPerOp * n[runner]) / d / 1e6 : (d / n[runner]) * 1e6;
  };
  const td = per('trapdoor');
  const qv = per('qemu');
  rows.push({
    arch,
    workload: w,
    unit: w === 'loop' ? 'M guest insns/s' : `µs per ${w === 'fork' ? 'fork+exit+wait4' : 'getpid'}`,
    iters: Object.fromEntries(Object.keys(dts).map((r) => [r, n[r as Runner]])),
    trapdoor: td,
    qemu: qv,
    host: per('host'),
    slowdown: qv === null || td === null ? null : w === 'loop' ? qv / td : td / qv,
    fixed,
    guestInsnsPerOp: insnsPerOp,
    cpuEntriesPerOp: entriesPerOp,
    tlbFillsPerOp: fillsPerOp,
    raw,
  });
}

// ---------------------------------------------------------------- the bare Machine

const STEP_SNIPPET: Record<Arch, string> = {
  arm: '1: add r5, r5, #3\n sub r4, r4, #1\n b 1b\n',
  x86: '1: addl $3, %edx\n subl $1, %ecx\n jmp 1b\n',
};

/** A bare Machine with the endless 3-instruction loop loaded at `at`. */
function loopMachine(arch: Arch, at: number): Machine {
  const m = new Machine(archCpu(arch));
  m.load(at, assembleProgram(STEP_SNIPPET[arch], { arch, textAddr: at }).sections[0]!.bytes);
  return m;
}

function machineRow(arch: Arch, workload: Row['workload'], unit: string, iters: number, value: number, raw: number[], note?: string): void {
  rows.push({
    arch, workload, unit, iters: { trapdoor: iters }, trapdoor: value, qemu: null, host: null, slowdown: null,
    fixed: { trapdoor: 0, qemu: null, host: null }, note, raw: { runs: raw },
  });
}

/**
 * The bare snippet Machine: Machine.step() (what a debugger's single step costs) against
 * Machine.run() on the same loop; and Machine.run() again with one JS code hook bounded to an
 * address the loop never reaches — the kernel installs such hooks (its gate page), and
 * comparing this with the `loop` row shows what they cost every guest instruction.
 */
function machineCosts(arch: Arch): void {
  process.stderr.write(`  Machine-${arch}: run, run + bounded hook, step …`);
  const at = 0x10000;
  const runInsns = 3 * ITERS.loop.trapdoor;
  const runs: { seconds: number; times: number[] }[] = [];
  for (const hooked of [false, true]) {
    const m = loopMachine(arch, at);
    try {
      if (hooked) m.cpu.hookCode(0x800000, 0x800003, () => {});
      runs.push(measure(() => timed(() => m.run({ from: at, budget: runInsns }))));
    } finally {
      m.close();
    }
  }
  const m = loopMachine(arch, at);
  let steps;
  try {
    steps = measure(() => {
      m.run({ from: at, budget: 1 });
      const before = m.cpu.retired;
      const r = timed(() => {
        for (let i = 0; i < STEPS; i++) if (m.step().kind !== 'step') throw new Error('step did not step');
      });
      if (m.cpu.retired - before !== STEPS) throw new Error(`${STEPS} steps retired ${m.cpu.retired - before} instructions`);
      return r;
    });
  } finally {
    m.close();
  }
  process.stderr.write(' done\n');
  const [bare, hooked] = runs as [(typeof runs)[0], (typeof runs)[0]];
  const mips = (sec: number) => runInsns / sec / 1e6;
  const runNs = (bare.seconds / runInsns) * 1e9;
  const stepUs = (steps.seconds / STEPS) * 1e6;
  machineRow(arch, 'Machine.run', 'M guest insns/s', runInsns, mips(bare.seconds), bare.times, `${runNs.toFixed(1)} ns per instruction`);
  machineRow(arch, 'Machine.run+hook', 'M guest insns/s', runInsns, mips(hooked.seconds), hooked.times,
    `${(hooked.seconds / bare.seconds).toFixed(1)}× Machine.run()'s time`);
  machineRow(arch, 'Machine.step', 'µs per step()', STEPS, stepUs, steps.times, `${((stepUs * 1000) / runNs).toFixed(0)}× Machine.run()'s time per instruction`);
}

// ---------------------------------------------------------------- main

const cpuModel = (() => {
  try {
    return /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? '?';
  } catch {
    return cpus()[0]?.model ?? '?';
  }
})();
const qemuVersion = (q: string) =>
  which(q) ? (spawnSync(q, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? '?') : null;
const machine = {
  cpu: cpuModel,
  cores: cpus().length,
  node: process.version,
  kernel: release(),
  unicorn: (() => {
    try {
      return (JSON.parse(readFileSync(join(root, '.deps', 'config.json'), 'utf8')) as { unicornVersion?: string }).unicornVersion ?? '?';
    } catch {
      return '?';
    }
  })(),
  qemu: { arm: qemuVersion('qemu-arm'), x86: qemuVersion('qemu-i386') },
  date: new Date().toISOString().slice(0, 10),
  quick,
  reps: REPS,
  /** 1-minute load average before and after: other work on the machine skews wall times. */
  load: { before: loadavg()[0]!, after: NaN },
};

process.stderr.write(`trapdoor bench — ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, median of ${REPS} after 1 warm-up${quick ? ' (--quick)' : ''}\n`);
for (const arch of ARCHES) {
  const t = TOOLS[arch];
  const missing = [t.as[0]!, t.ld[0]!, t.qemu].filter((c) => !which(c));
  if (missing.length) {
    loud(`REFERENCE MISSING for ${arch}: ${missing.join(', ')} not found — only trapdoor's own numbers are reported (install qemu-user and the cross binutils: \`npm test\`'s setup does)`);
  }
}

try {
  for (const arch of ARCHES) {
    for (const w of ['loop', 'getpid', 'fork'] as const) if (only.has(w)) workload(arch, w);
    if (only.has('machine')) machineCosts(arch);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

// ---------------------------------------------------------------- report

machine.load.after = loadavg()[0]!;
if (machine.load.before > 0.5) {
  loud(`the machine was busy before the run (1-minute load average ${machine.load.before.toFixed(2)} on ${machine.cores} cores): wall times are inflated and noisy — rerun on an idle machine`);
}

const f = (x: number | null) => (x === null ? 'n/a' : x.toFixed(x >= 100 ? 0 : x >= 10 ? 1 : 2));
/** 10000000 → 10M */
const si = (x: number) => (x >= 1e6 && x % 1e6 === 0 ? `${x / 1e6}M` : x >= 1e3 && x % 1e3 === 0 ? `${x / 1e3}k` : String(x));
/** 12× slower / 3.4× faster: always a factor ≥ 1, and the direction in words. */
const ratio = (x: number) => {
  const k = x >= 1 ? x : 1 / x;
  return `${k.toFixed(k < 10 ? 1 : 0)}× ${x >= 1 ? 'slower' : 'faster'}`;
};
const header = ['arch', 'workload', 'N td / qemu', 'guest insns/op', 'CPU entries/op', 'TLB fills/op', 'unit', 'trapdoor', 'qemu-user', 'vs qemu-user (or note)', 'host (i386)', 'fixed td / qemu (ms)'];
const table = rows.map((r) => [
  r.arch,
  r.workload,
  [r.iters.trapdoor, r.iters.qemu].filter((x) => x !== undefined).map(si).join(' / '),
  r.guestInsnsPerOp === undefined ? '' : String(r.guestInsnsPerOp),
  r.cpuEntriesPerOp === undefined ? '' : String(r.cpuEntriesPerOp),
  r.tlbFillsPerOp === undefined ? '' : String(Math.round(r.tlbFillsPerOp * 100) / 100),
  r.unit,
  f(r.trapdoor),
  f(r.qemu),
  r.slowdown === null ? (r.note ?? 'n/a') : ratio(r.slowdown),
  f(r.host),
  r.workload.startsWith('Machine') ? '' : `${(r.fixed.trapdoor * 1e3).toFixed(0)} / ${r.fixed.qemu === null ? 'n/a' : (r.fixed.qemu * 1e3).toFixed(0)}`,
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
const line = (cells: string[]) => '| ' + cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
console.log('\n' + line(header));
console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
for (const r of table) console.log(line(r));
for (const r of rows) {
  if (r.fixed.cli !== undefined) console.log(`\`trapdoor run\` of the empty ${r.arch} loop program, end to end: ${(r.fixed.cli * 1e3).toFixed(0)} ms`);
}
console.log(`\n${machine.cpu} (${machine.cores} cores), Linux ${machine.kernel}, Node ${machine.node}, Unicorn ${machine.unicorn}, ${machine.qemu.arm ?? 'qemu-arm missing'}; median of ${REPS} after 1 warm-up.`);
for (const w of warnings) console.log(`WARNING: ${w}`);

writeFileSync(jsonPath, JSON.stringify({ machine, iters: ITERS, steps: STEPS, rows, warnings }, null, 2) + '\n');
process.stderr.write(`results written to ${jsonPath}\n`);
