#!/usr/bin/env node
import { existsSync } from 'node:fs';

const dist = new URL('../dist/trapdoor.mjs', import.meta.url);
if (!existsSync(dist)) {
  console.error('trapdoor: not built yet — run `npm run setup`');
  process.exit(1);
}
await import(dist.href);
