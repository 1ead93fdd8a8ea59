#!/usr/bin/env node
// `npm run bench`: rebuilds the CLI (build.mjs's bundle(), so `trapdoor run` is measured as
// it is now), bundles bench/bench.ts (which imports trapdoor's TypeScript sources) the same
// way into dist/bench.mjs, and runs it. Arguments pass through: `npm run bench -- --quick`.
import path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { bundle } from '../build.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const outfile = path.join(root, 'dist', 'bench.mjs');

if (!(await bundle('src/cli/main.ts', 'dist/trapdoor.mjs'))) process.exit(1);
if (!(await bundle('bench/bench.ts', outfile))) process.exit(1);
await import(pathToFileURL(outfile).href);
