/** An error that escapes every handler is logged and the process keeps serving (Node's default is to exit). */
import { EventEmitter } from 'node:events';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { installProcessGuard } from '../../src/process-guard';
import { capturingLogger } from '../helpers/log-events';

it('logs an uncaught exception and an unhandled rejection instead of letting them stop the process', () => {
  const log = capturingLogger();
  const emitter = new EventEmitter();
  const uninstall = installProcessGuard(log.logger, emitter as unknown as NodeJS.Process);
  emitter.emit('uncaughtException', new Error('stream exploded'));
  emitter.emit('unhandledRejection', new Error('nobody awaited me'));
  expect(log.lines.map((l) => [l.msg, (l.err as { message: string }).message])).toEqual([
    ['Uncaught exception; the portal keeps serving', 'stream exploded'],
    ['Unhandled promise rejection; the portal keeps serving', 'nobody awaited me'],
  ]);
  uninstall();
  expect(emitter.listenerCount('uncaughtException')).toBe(0);
  expect(emitter.listenerCount('unhandledRejection')).toBe(0);
});

it('keeps a real process alive after an exception nobody caught', async () => {
  // A child process, because an uncaught exception in jest's own process is jest's business.
  const code = [
    `const { installProcessGuard } = require(${JSON.stringify(require.resolve('../../src/process-guard'))});`,
    // One synchronous logger for both lines, so their order is the order of events.
    "const pino = require('pino'); const log = pino(pino.destination({ sync: true }));",
    'installProcessGuard(log);',
    "setTimeout(() => { throw new Error('boom'); }, 0);",
    "setTimeout(() => { log.info('still serving'); process.exit(0); }, 0);",
  ].join('\n');
  const child = spawn(process.execPath, ['-r', require.resolve('tsx/cjs'), '-e', code], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c));
  const [exitCode] = (await once(child, 'exit')) as [number];
  const lines = out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { msg: string; err?: { message: string } });
  expect(exitCode).toBe(0);
  expect(lines.map((l) => l.msg)).toEqual(['Uncaught exception; the portal keeps serving', 'still serving']);
  expect(lines[0].err!.message).toBe('boom');
});
