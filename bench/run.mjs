#!/usr/bin/env node
// `npm run bench`: rebuilds the CLI (build.mjs, so `trapdoor run` is measured as it is
// now), bundles bench/bench.ts (which imports trapdoor's TypeScript sources) the same way
// into dist/bench.mjs, and runs it. Arguments pass through: `npm run bench -- --quick`.
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const outfile = path.join(root, 'dist', 'bench.mjs');

if (spawnSync(process.execPath, [path.join(root, 'build.mjs')], { stdio: 'inherit' }).status !== 0) process.exit(1);
try {
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: ['bench/bench.ts'],
    outfile,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    bundle: true,
    sourcemap: true,
    packages: 'external',
    logLevel: 'warning',
  });
} catch {
  process.exit(1); // esbuild has already printed the errors
}
await import(pathToFileURL(outfile).href);
