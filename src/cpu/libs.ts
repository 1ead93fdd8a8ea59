// Locates the native libraries that setup (scripts/setup.mjs) prepared:
// libunicorn >= 2.1 and trapdoor's own instruction-counting hook (native/td_hooks.c).
// Contract: setup writes .deps/config.json; nothing here downloads or builds.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NativeLibs {
  unicorn: string;
  hooks: string;
}

export class SetupError extends Error {}

/** The repository root: the nearest folder above this module with a package.json named trapdoor. */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if (JSON.parse(readFileSync(pkg, 'utf8')).name === 'trapdoor') return dir;
      } catch {
        /* keep looking */
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new SetupError('trapdoor: cannot find the project root (package.json named "trapdoor")');
    dir = up;
  }
}

let cached: NativeLibs | undefined;

export function nativeLibs(): NativeLibs {
  if (cached) return cached;
  const root = projectRoot();
  const cfgPath = join(root, '.deps', 'config.json');
  if (!existsSync(cfgPath)) {
    throw new SetupError(`trapdoor: native libraries are not set up (${cfgPath} is missing) — run \`npm run setup\``);
  }
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as Partial<NativeLibs> & { unicornLibEnv?: string | null };
  const env = process.env.UNICORN_LIB;
  if (env && resolve(env) !== cfg.unicorn) {
    throw new SetupError(
      `trapdoor: UNICORN_LIB=${env} differs from the library setup chose (${cfg.unicorn}) — run \`npm run setup\` again`,
    );
  }
  for (const key of ['unicorn', 'hooks'] as const) {
    const p = cfg[key];
    if (!p || !existsSync(p)) {
      throw new SetupError(`trapdoor: ${key} library ${p ?? '(none)'} is missing — run \`npm run setup\``);
    }
  }
  cached = { unicorn: cfg.unicorn!, hooks: cfg.hooks! };
  return cached;
}
