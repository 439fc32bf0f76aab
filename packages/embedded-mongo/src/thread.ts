/**
 * The engine's own thread (started by startEmbeddedMongoThread in ./index.ts). The engine answers every
 * command synchronously; in the server's thread a bulk job's inserts, index maintenance, journal writes
 * and large getMores ran between HTTP requests and held them for up to seconds. Here they only hold
 * this thread: the portal's driver still connects by URI over loopback TCP, exactly as to MongoDB.
 * Messages: the parent sends {id, op: 'flush' | 'stop'}; the thread answers {id} or {id, error}, logs
 * through {type: 'log'} (it has no logger of its own) and says {type: 'ready', uri, port} once listening.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { startEmbeddedMongo, type EmbeddedMongoOptions } from './index';

export type EngineThreadData = Omit<EmbeddedMongoOptions, 'logger'>;

export type EngineThreadMessage =
  | { type: 'ready'; uri: string; host: string; port: number }
  | { type: 'failed'; message: string; stack?: string }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; obj: unknown; msg?: string }
  | { type: 'done'; id: number; error?: string };

const port = parentPort!;
const send = (m: EngineThreadMessage) => port.postMessage(m);
/** Errors are sent as plain objects: an Error's own fields would be lost by the structured clone. */
const plain = (v: unknown): unknown => (v instanceof Error ? { message: v.message, stack: v.stack, name: v.name } : v);
const log = (level: 'info' | 'warn' | 'error') => (obj: unknown, msg?: unknown) => {
  const o =
    obj && typeof obj === 'object' ? Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, plain(v)])) : obj;
  send({ type: 'log', level, obj: o, msg: typeof msg === 'string' ? msg : undefined });
};

async function main(): Promise<void> {
  const opts = workerData as EngineThreadData;
  let engine;
  try {
    engine = await startEmbeddedMongo({
      ...opts,
      logger: { info: log('info'), warn: log('warn'), error: log('error') },
    });
  } catch (err) {
    const e = err as Error;
    send({ type: 'failed', message: e.message, stack: e.stack });
    port.close();
    return;
  }
  const running = engine;
  port.on('message', (m: { id: number; op: 'flush' | 'stop' }) => {
    const work = m.op === 'flush' ? running.flush() : running.stop();
    work.then(
      () => {
        send({ type: 'done', id: m.id });
        if (m.op === 'stop') port.close(); // nothing else keeps the thread alive: it ends
      },
      (err: Error) => send({ type: 'done', id: m.id, error: err.message }),
    );
  });
  send({ type: 'ready', uri: running.uri, host: running.host, port: running.port });
}

void main();
