/**
 * The engine package's standalone server (`npm run db`) for benches that run it as its own process: its
 * TypeScript source when the bench runs through tsx, its compiled dist/cli.js (built by `npm run build`)
 * when the bench itself is compiled.
 */
import path from 'node:path';

export function engineCliPath(): string {
  return __filename.endsWith('.ts')
    ? path.join(__dirname, '../packages/embedded-mongo/src/cli.ts')
    : path.join(__dirname, '../../packages/embedded-mongo/dist/cli.js');
}
