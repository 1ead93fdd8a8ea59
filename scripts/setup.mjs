#!/usr/bin/env node
// trapdoor setup: everything `npm run demo` and `npm test` need, from a fresh clone with
// only Node >= 20. Plain Node, node: builtins only (it runs before `npm ci`).
//
//   node scripts/setup.mjs [--test] [--quiet]
//
// Steps (each is skipped when its result is already there, so re-runs are quiet and fast):
//   1. npm packages (`npm ci` when node_modules is missing or older than package-lock.json)
//   2. libunicorn >= 2.1: $UNICORN_LIB, else a system library, else Debian 13's
//      libunicorn2t64 fetched with a private apt configuration into .deps/unicorn/
//   3. the native hook helper native/td_hooks.c -> .deps/native/libtd_hooks.so
//   4. .deps/config.json (read by the Unicorn binding and the tests)
//   5. with --test: Debian cross binutils, cross gcc and qemu-user used by the test suite
//   6. node build.mjs
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEPS = path.join(ROOT, '.deps');
const APT_DIR = path.join(DEPS, 'apt');
const UNICORN_DIR = path.join(DEPS, 'unicorn');
const NATIVE_DIR = path.join(DEPS, 'native');
const CONFIG = path.join(DEPS, 'config.json');
const HOOKS_SRC = path.join(ROOT, 'native', 'td_hooks.c');
const HOOKS_SO = path.join(NATIVE_DIR, 'libtd_hooks.so');
const MIN_MAJOR = 2;
const MIN_MINOR = 1;
const DEBIAN_SUITE = 'trixie';
const DEBIAN_PACKAGE = 'libunicorn2t64';

const args = process.argv.slice(2);
const opts = { test: false, quiet: false };
for (const a of args) {
  if (a === '--test') opts.test = true;
  else if (a === '--quiet') opts.quiet = true;
  else if (a === '--help' || a === '-h') {
    console.log('usage: node scripts/setup.mjs [--test] [--quiet]');
    process.exit(0);
  } else {
    console.error(`trapdoor setup: unknown option ${a} (use --test and/or --quiet)`);
    process.exit(2);
  }
}

class SetupError extends Error {}
const fail = (msg) => {
  throw new SetupError(msg);
};
/** A progress line for work that is actually being done (shown even with --quiet). */
const step = (msg) => console.log(`trapdoor setup: ${msg}`);
/** Informational line, hidden by --quiet. */
const info = (msg) => {
  if (!opts.quiet) console.log(`trapdoor setup: ${msg}`);
};
const warn = (msg) => console.error(`trapdoor setup: warning: ${msg}`);
const rel = (p) => (p.startsWith(ROOT + path.sep) ? path.relative(ROOT, p) : p);
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const mtime = (p) => {
  try {
    return fs.statSync(p).mtimeMs;
  } catch {
    return -1;
  }
};

/** Run a command; returns { status, stdout, stderr, error }. Never throws. */
function run(cmd, argv, { cwd = ROOT, inherit = false, env, timeout } = {}) {
  const r = spawnSync(cmd, argv, {
    cwd,
    env: env ?? process.env,
    encoding: 'utf8',
    stdio: inherit ? 'inherit' : ['ignore', 'pipe', 'pipe'],
    timeout,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}
const tail = (s, n = 15) => s.trim().split('\n').slice(-n).join('\n');
function hasCommand(name) {
  return run('sh', ['-c', `command -v ${name}`]).status === 0;
}

// ---------------------------------------------------------------------------------------
// 0. Node version
function checkNode() {
  const major = Number(process.versions.node.split('.')[0]);
  if (!(major >= 20)) {
    fail(
      `Node ${process.versions.node} is too old: trapdoor needs Node 20 or newer ` +
        `(https://nodejs.org/, or e.g. \`nvm install 20\`). Re-run \`npm run setup\` with it.`,
    );
  }
}

// ---------------------------------------------------------------------------------------
// 1. npm packages
function ensureNodeModules() {
  const lock = path.join(ROOT, 'package-lock.json');
  const hidden = path.join(ROOT, 'node_modules', '.package-lock.json');
  const haveLock = fs.existsSync(lock);
  const nm = path.join(ROOT, 'node_modules');
  const needed = !fs.existsSync(nm) || (haveLock && mtime(lock) > mtime(hidden));
  if (!needed) return;
  const verb = haveLock ? 'ci' : 'install';
  step(`installing npm packages (npm ${verb}) ...`);
  // Inside `npm run`, use the very npm that runs us.
  const npmCli = process.env.npm_execpath;
  const [cmd, pre] =
    npmCli && /\.[cm]?js$/.test(npmCli) ? [process.execPath, [npmCli]] : ['npm', []];
  const flags = ['--no-audit', '--no-fund'];
  if (opts.quiet) flags.push('--loglevel=error');
  const r = run(cmd, [...pre, verb, ...flags], { inherit: true });
  if (r.error || r.status !== 0) {
    fail(
      `\`npm ${verb}\` failed${r.error ? ` (${r.error.message})` : ''}. npm's output above says ` +
        `why; the usual causes are no network access to the npm registry or a missing npm. ` +
        `Fix that and re-run \`npm run setup\`.`,
    );
  }
  // Mark node_modules as up to date with the lockfile even if npm left the old mtime.
  if (fs.existsSync(hidden)) {
    const now = new Date();
    fs.utimesSync(hidden, now, now);
  }
}

// ---------------------------------------------------------------------------------------
// 2. libunicorn >= 2.1

/**
 * Load each library with koffi in a child process (a bad library can kill the process) and
 * return its uc_version: Map<path, {major, minor, patch} | {error}>.
 */
function probeUnicorn(paths) {
  const out = new Map();
  const script = `
    const { createRequire } = require('node:module');
    const koffi = createRequire(process.cwd() + '/package.json')('koffi');
    const p = process.argv[1];
    try {
      const v = koffi.load(p).func('unsigned int uc_version(unsigned int *, unsigned int *)')(null, null);
      process.stdout.write(JSON.stringify({ v }));
    } catch (e) {
      process.stdout.write(JSON.stringify({ error: String(e && e.message || e) }));
    }`;
  for (const p of paths) {
    const r = run(process.execPath, ['-e', script, p], { timeout: 30000 });
    let res;
    try {
      res = JSON.parse(r.stdout);
    } catch {
      res = { error: tail(r.stderr, 3) || `probe exited with ${r.status ?? r.error?.message}` };
    }
    if (res.v !== undefined) {
      const v = res.v >>> 0;
      out.set(p, { major: v >>> 24, minor: (v >>> 16) & 0xff, patch: (v >>> 8) & 0xff });
    } else {
      out.set(p, { error: res.error });
    }
  }
  return out;
}
const versionOk = (v) => v && !v.error && (v.major > MIN_MAJOR || (v.major === MIN_MAJOR && v.minor >= MIN_MINOR));
const fmtVersion = (v) => (v.error ? `unloadable: ${v.error}` : `${v.major}.${v.minor}.${v.patch}`);

function systemUnicornCandidates() {
  const r = run('ldconfig', ['-p']);
  const r2 = r.error ? run('/sbin/ldconfig', ['-p']) : r;
  if (r2.error || r2.status !== 0) return [];
  const found = [];
  for (const line of r2.stdout.split('\n')) {
    const m = /^\s*libunicorn\.so\.2\s.*=>\s*(\S+)\s*$/.exec(line);
    if (m && !found.includes(m[1])) found.push(m[1]);
  }
  return found;
}

function fetchedUnicorn() {
  const libRoot = path.join(UNICORN_DIR, 'usr', 'lib');
  if (!fs.existsSync(libRoot)) return null;
  const direct = path.join(libRoot, 'libunicorn.so.2');
  if (fs.existsSync(direct)) return direct;
  for (const d of fs.readdirSync(libRoot)) {
    const p = path.join(libRoot, d, 'libunicorn.so.2');
    if (fs.existsSync(p)) return p;
  }
  return null;
}

const NEED_UNICORN =
  `Install Debian 13's ${DEBIAN_PACKAGE} (or any libunicorn 2.1.x: \`libunicorn.so.2\` with uc_version >= 2.1), ` +
  `or build Unicorn 2.1 from https://github.com/unicorn-engine/unicorn and set ` +
  `UNICORN_LIB=/path/to/libunicorn.so.2, then re-run \`npm run setup\`. ` +
  `(Debian 12's libunicorn2 is 2.0.1, which cannot run guest page tables.)`;

function fetchDebianUnicorn() {
  if (!hasCommand('apt-get') || !hasCommand('dpkg')) {
    fail(`no usable libunicorn >= 2.1 was found, and this system has no apt-get/dpkg to fetch Debian's. ${NEED_UNICORN}`);
  }
  const sources = path.join(APT_DIR, 'sources.list');
  const lists = path.join(APT_DIR, 'lists');
  const cache = path.join(APT_DIR, 'cache');
  fs.mkdirSync(path.join(lists, 'partial'), { recursive: true });
  fs.mkdirSync(path.join(cache, 'archives', 'partial'), { recursive: true });
  fs.writeFileSync(sources, `deb http://deb.debian.org/debian ${DEBIAN_SUITE} main\n`);
  const aptOpts = [
    '-o', `Dir::Etc::SourceList=${sources}`,
    '-o', 'Dir::Etc::SourceParts=/dev/null',
    '-o', `Dir::State::Lists=${lists}`,
    '-o', `Dir::Cache=${cache}`,
    '-o', 'APT::Get::List-Cleanup=0',
  ];
  const debs = () => fs.readdirSync(APT_DIR).filter((f) => f.startsWith(`${DEBIAN_PACKAGE}_`) && f.endsWith('.deb'));
  if (debs().length === 0) {
    step(`fetching Unicorn 2.1 (Debian ${DEBIAN_SUITE} ${DEBIAN_PACKAGE}) into .deps/ (system apt configuration untouched) ...`);
    let r = run('apt-get', [...aptOpts, '-q', 'update'], { timeout: 300000 });
    // apt-get update exits 0 when an index merely failed to download: look for the index.
    const haveIndex = fs.readdirSync(lists).some((f) => f.includes(DEBIAN_SUITE) && /_Packages(\.\w+)?$/.test(f));
    if (r.error || r.status !== 0 || !haveIndex) {
      fail(
        `could not read the Debian ${DEBIAN_SUITE} package index (apt-get update with a private ` +
          `configuration in .deps/apt failed; are you offline, or is the Debian archive key missing?):\n` +
          `${tail(r.stderr || r.stdout || String(r.error))}\n${NEED_UNICORN}`,
      );
    }
    r = run('apt-get', [...aptOpts, '-q', 'download', DEBIAN_PACKAGE], { cwd: APT_DIR, timeout: 300000 });
    if (r.error || r.status !== 0 || debs().length === 0) {
      fail(`\`apt-get download ${DEBIAN_PACKAGE}\` failed:\n${tail(r.stderr || r.stdout || String(r.error))}\n${NEED_UNICORN}`);
    }
  }
  const deb = path.join(APT_DIR, debs().sort().at(-1));
  fs.rmSync(UNICORN_DIR, { recursive: true, force: true });
  fs.mkdirSync(UNICORN_DIR, { recursive: true });
  const r = run('dpkg', ['-x', deb, UNICORN_DIR]);
  if (r.error || r.status !== 0) {
    fail(`\`dpkg -x ${rel(deb)}\` failed:\n${tail(r.stderr || String(r.error))}\n${NEED_UNICORN}`);
  }
  const lib = fetchedUnicorn();
  if (!lib) fail(`${rel(deb)} did not contain libunicorn.so.2. ${NEED_UNICORN}`);
  return lib;
}

/** @returns {{ path: string, version: string }} */
function ensureUnicorn() {
  const env = process.env.UNICORN_LIB;
  if (env) {
    const p = path.resolve(env);
    if (!fs.existsSync(p)) fail(`UNICORN_LIB=${env} does not exist. Point it at a libunicorn.so.2 of Unicorn 2.1.x, or unset it.`);
    const v = probeUnicorn([p]).get(p);
    if (!versionOk(v)) {
      fail(`UNICORN_LIB=${env} is not a usable Unicorn >= 2.1 (${fmtVersion(v)}). Point it at a libunicorn.so.2 of Unicorn 2.1.x, or unset it.`);
    }
    return { path: p, version: fmtVersion(v) };
  }

  const rejected = [];
  // A previously fetched copy is checked first among the non-explicit sources only when no
  // system library qualifies; the system library wins so a proper install takes over.
  const system = systemUnicornCandidates();
  if (system.length > 0) {
    const versions = probeUnicorn(system);
    for (const p of system) {
      const v = versions.get(p);
      if (versionOk(v)) return { path: p, version: fmtVersion(v) };
      rejected.push(`${p} (${fmtVersion(v)})`);
    }
  }

  let lib = fetchedUnicorn();
  let fresh = false;
  if (!lib) {
    if (rejected.length) info(`system Unicorn too old, not used: ${rejected.join(', ')}`);
    lib = fetchDebianUnicorn();
    fresh = true;
  }
  let v = probeUnicorn([lib]).get(lib);
  if (!versionOk(v) && !fresh) {
    // A broken or stale copy in .deps: fetch again once.
    fs.rmSync(UNICORN_DIR, { recursive: true, force: true });
    lib = fetchDebianUnicorn();
    v = probeUnicorn([lib]).get(lib);
  }
  if (!versionOk(v)) {
    fail(
      `the fetched ${rel(lib)} is not a usable Unicorn >= 2.1 (${fmtVersion(v)}); ` +
        `Debian's build needs glibc >= 2.34. ${NEED_UNICORN}`,
    );
  }
  if (fresh) step(`Unicorn ${fmtVersion(v)} ready at ${rel(lib)}`);
  return { path: lib, version: fmtVersion(v) };
}

// ---------------------------------------------------------------------------------------
// apt-get install (root only), with a single `apt-get update` per run
let aptUpdated = false;
function aptInstall(pkgs) {
  if (!isRoot) return { ok: false, why: 'not running as root' };
  if (!hasCommand('apt-get')) return { ok: false, why: 'apt-get not found' };
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    step('apt-get update ...');
    const r = run('apt-get', ['-q', 'update'], { env, timeout: 600000 });
    if (r.error || r.status !== 0) return { ok: false, why: `apt-get update failed:\n${tail(r.stderr || r.stdout || String(r.error))}` };
    aptUpdated = true;
  }
  step(`apt-get install ${pkgs.join(' ')} ...`);
  const r = run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...pkgs], { env, timeout: 1800000 });
  if (r.error || r.status !== 0) return { ok: false, why: `apt-get install failed:\n${tail(r.stderr || r.stdout || String(r.error))}` };
  return { ok: true };
}

// ---------------------------------------------------------------------------------------
// 3. native hook helper
/** @returns {string | null} absolute path of libtd_hooks.so, or null when the source is missing */
function ensureHooks() {
  if (!fs.existsSync(HOOKS_SRC)) {
    warn(`${rel(HOOKS_SRC)} does not exist yet; skipping the native hook helper ("hooks": null in .deps/config.json).`);
    return null;
  }
  if (fs.existsSync(HOOKS_SO) && mtime(HOOKS_SO) >= mtime(HOOKS_SRC)) return HOOKS_SO;
  if (!hasCommand('cc')) {
    const r = aptInstall(['gcc', 'libc6-dev']);
    if (!r.ok || !hasCommand('cc')) {
      fail(
        `a C compiler (\`cc\`) is needed to build the native hook helper ${rel(HOOKS_SRC)}, and it ` +
          `could not be installed automatically (${r.why ?? 'cc still missing'}). Install one ` +
          `(Debian/Ubuntu: \`sudo apt-get install gcc libc6-dev\`) and re-run \`npm run setup\`.`,
      );
    }
  }
  step(`compiling ${rel(HOOKS_SRC)} -> ${rel(HOOKS_SO)}`);
  fs.mkdirSync(NATIVE_DIR, { recursive: true });
  const tmp = `${HOOKS_SO}.tmp-${process.pid}`;
  const r = run('cc', ['-O2', '-shared', '-fPIC', '-o', tmp, HOOKS_SRC, '-ldl']);
  if (r.error || r.status !== 0) {
    fs.rmSync(tmp, { force: true });
    fail(`compiling ${rel(HOOKS_SRC)} failed:\n${tail(r.stderr || String(r.error), 30)}`);
  }
  fs.renameSync(tmp, HOOKS_SO); // atomic: a running test never sees a half-written .so
  return HOOKS_SO;
}

// ---------------------------------------------------------------------------------------
// 4. .deps/config.json
function writeConfig(unicorn, hooks) {
  const cfg = {
    unicorn: unicorn.path,
    unicornVersion: unicorn.version,
    hooks,
    unicornLibEnv: process.env.UNICORN_LIB || null,
  };
  const text = JSON.stringify(cfg, null, 2) + '\n';
  let old = null;
  try {
    old = fs.readFileSync(CONFIG, 'utf8');
  } catch {}
  if (old === text) return false;
  fs.mkdirSync(DEPS, { recursive: true });
  fs.writeFileSync(`${CONFIG}.tmp`, text);
  fs.renameSync(`${CONFIG}.tmp`, CONFIG);
  info(`wrote ${rel(CONFIG)}`);
  return true;
}

// ---------------------------------------------------------------------------------------
// 5. test-suite tools (--test)
const TEST_PACKAGES = [
  { pkg: 'binutils-arm-linux-gnueabi', cmd: 'arm-linux-gnueabi-as' },
  { pkg: 'binutils-i686-linux-gnu', cmd: 'i686-linux-gnu-as' },
  { pkg: 'qemu-user', cmd: 'qemu-arm' },
  { pkg: 'qemu-user', cmd: 'qemu-i386' },
  { pkg: 'gcc-arm-linux-gnueabi', cmd: 'arm-linux-gnueabi-gcc' },
  { pkg: 'libc6-dev-armel-cross', file: '/usr/arm-linux-gnueabi/include/stdio.h' },
  { pkg: 'gcc-i686-linux-gnu', cmd: 'i686-linux-gnu-gcc' },
  { pkg: 'libc6-dev-i386-cross', file: '/usr/i686-linux-gnu/include/stdio.h' },
];
function missingTestPackages() {
  const missing = new Set();
  for (const t of TEST_PACKAGES) {
    const ok = t.cmd ? hasCommand(t.cmd) : fs.existsSync(t.file);
    if (!ok) missing.add(t.pkg);
  }
  return [...missing];
}
function ensureTestTools() {
  let missing = missingTestPackages();
  if (missing.length === 0) return;
  const r = aptInstall(missing);
  if (r.ok) missing = missingTestPackages();
  if (missing.length === 0) return;
  const bar = '!'.repeat(78);
  console.error(
    [
      '',
      bar,
      'trapdoor setup: WARNING: test tools are missing and could not be installed',
      `  (${r.ok ? 'installed, but still not found' : r.why.split('\n')[0]}).`,
      '  Missing Debian packages:',
      ...missing.map((p) => `    - ${p}`),
      '  Install them with:',
      `    sudo apt-get install --no-install-recommends ${missing.join(' ')}`,
      '  Until then these tests SKIP: the keystone-vs-GNU-as golden tests (cross binutils),',
      '  the differential runs against qemu-user (qemu-arm, qemu-i386), and the tests on',
      '  fixture binaries built from fixtures/src (cross gcc + cross libc6-dev).',
      bar,
      '',
    ].join('\n'),
  );
}

// ---------------------------------------------------------------------------------------
// 6. build
function build() {
  const r = run(process.execPath, [path.join(ROOT, 'build.mjs')], { inherit: true });
  if (r.error || r.status !== 0) {
    fail(`\`node build.mjs\` failed (see esbuild's messages above). Fix the error and re-run \`npm run setup\`.`);
  }
}

// ---------------------------------------------------------------------------------------
function main() {
  checkNode();
  ensureNodeModules();
  const unicorn = ensureUnicorn();
  const hooks = ensureHooks();
  writeConfig(unicorn, hooks);
  if (opts.test) ensureTestTools();
  build();
  info(`ready: Unicorn ${unicorn.version} (${rel(unicorn.path)}), hooks ${hooks ? rel(hooks) : 'not built'}`);
}

try {
  main();
} catch (e) {
  const msg = e instanceof SetupError ? e.message : `unexpected error: ${e && e.message ? e.message : String(e)}`;
  console.error(`\ntrapdoor setup failed: ${msg}\n`);
  process.exit(1);
}
