// Bundle the CLI: src/cli/main.ts -> dist/trapdoor.mjs (npm packages stay external).
// bench/run.mjs imports bundle() to build its own entry point the same way.
import * as esbuild from 'esbuild';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.dirname(fileURLToPath(import.meta.url));

/** Bundles one entry point (relative to the project root); false if esbuild failed (it has printed why). */
export async function bundle(entry, outfile) {
  try {
    await esbuild.build({
      absWorkingDir: root,
      entryPoints: [entry],
      outfile,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      bundle: true,
      sourcemap: true,
      packages: 'external',
      logLevel: 'warning',
    });
    return true;
  } catch {
    return false;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (!(await bundle('src/cli/main.ts', 'dist/trapdoor.mjs'))) process.exit(1);
}
