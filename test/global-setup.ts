// Fails the whole run early when the native dependencies were never set up.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export default function setup(): void {
  const configPath = path.join(root, '.deps', 'config.json');
  if (!existsSync(configPath)) {
    throw new Error(
      `.deps/config.json is missing: Unicorn and the native hook helper are not set up. ` +
        `Run \`npm test\`, which runs setup first (or \`npm run setup\`).`,
    );
  }
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as { unicorn?: string };
  if (!config.unicorn || !existsSync(config.unicorn)) {
    throw new Error(
      `.deps/config.json names a Unicorn library that does not exist (${String(config.unicorn)}). ` +
        `Run \`npm test\`, which runs setup first (or \`npm run setup\`).`,
    );
  }
}
