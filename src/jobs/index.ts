import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { IngestSettings, MailSettings } from '../config';
import { startMailWorker, transportFor, type MailTransport } from '../mail';
import { lifecycleSettings, type LifecycleSettings } from '../domain/lifecycle-settings';
import { workerId } from './ingest-worker';
import type { IngestThreadData, IngestThreadMessage } from './ingest-thread';

/**
 * Background work: the bulk ingest worker, in a thread of its own (see ./ingest-thread.ts for why),
 * polling the database for ready jobs every `pollMs` and running them under a lease, so any number of
 * instances can poll the same database safely. If the thread dies (an exception, or a job that hit
 * the thread's heap cap) it is logged and started again after a growing pause; the job it held resumes
 * when its lease expires. stop() lets the batch in hand finish and hands the job back for any instance
 * to resume at once.
 */
export interface BackgroundWork {
  stop(): Promise<void>;
}

const DEFAULTS = { pollMs: 2000, leaseMs: 60_000, batchSize: 1000, threadHeapMb: 192 };
const MAX_RESTART_PAUSE_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

/** The thread's code: the compiled file, or, from TypeScript sources (tests, npm run dev), through tsx. */
function threadSource(): { source: string; evaluate: boolean } {
  const file = path.join(__dirname, `ingest-thread${path.extname(__filename)}`);
  if (file.endsWith('.js')) return { source: file, evaluate: false };
  return { source: `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(file)});`, evaluate: true };
}

/**
 * The mail delivery worker (src/mail/worker.ts) runs here too, in the main thread (it mostly waits on
 * the network), with leases on each message so several instances share one queue.
 */
export interface MailWork { settings: MailSettings; isProduction: boolean; transport?: MailTransport }

export function startBackgroundWork(deps: { logger: Logger; databaseUri: string; ingest?: Partial<IngestSettings>; mail?: MailWork; lifecycle?: LifecycleSettings }): BackgroundWork {
  const mail = deps.mail
    ? startMailWorker({
        transport: deps.mail.transport ?? transportFor(deps.mail.settings, deps.logger, deps.mail.isProduction),
        from: deps.mail.settings.from,
        pollMs: deps.mail.settings.pollMs,
        leaseMs: deps.mail.settings.leaseMs,
        maxAttempts: deps.mail.settings.maxAttempts,
        logger: deps.logger.child({ component: 'mail-worker' }),
      })
    : null;
  const settings = { ...DEFAULTS, ...deps.ingest };
  const log = deps.logger.child({ component: 'ingest-thread' });
  const data: IngestThreadData = { uri: deps.databaseUri, owner: workerId(), pollMs: settings.pollMs, leaseMs: settings.leaseMs, batchSize: settings.batchSize, lifecycle: deps.lifecycle ?? lifecycleSettings() };
  let worker: Worker | null = null;
  let exited: Promise<void> = Promise.resolve();
  let stopping = false;
  let failures = 0;
  let restartTimer: NodeJS.Timeout | undefined;

  const start = () => {
    const { source, evaluate } = threadSource();
    const w = new Worker(source, {
      eval: evaluate,
      workerData: data,
      resourceLimits: { maxOldGenerationSizeMb: settings.threadHeapMb },
    });
    worker = w;
    w.unref(); // never what keeps the process alive
    w.on('message', (m: IngestThreadMessage) => {
      if (m.type === 'ready') failures = 0;
      else if (m.type === 'finished') log.info({ jobs: m.jobs }, 'Ingest jobs finished');
      else if (m.type === 'error') log.error({ err: { message: m.message, stack: m.stack } }, 'Ingest worker failed; the job is retried when its lease expires');
    });
    w.on('error', (err) => log.error({ err }, 'The ingest thread died'));
    exited = new Promise((resolve) => {
      w.once('exit', (code) => {
        worker = null;
        resolve();
        if (stopping) return;
        const pause = Math.min(MAX_RESTART_PAUSE_MS, settings.pollMs * 2 ** failures++);
        log.warn({ code, restartInMs: pause }, 'The ingest thread stopped; starting another');
        restartTimer = setTimeout(start, pause);
        restartTimer.unref();
      });
    });
  };
  start();

  return {
    async stop() {
      stopping = true;
      clearTimeout(restartTimer);
      await mail?.stop();
      const w = worker as Worker | null;
      if (!w) return;
      w.postMessage('stop');
      const timeout = new Promise<'timeout'>((resolve) => setTimeout(resolve, STOP_TIMEOUT_MS, 'timeout').unref());
      if ((await Promise.race([exited, timeout])) === 'timeout') await w.terminate();
    },
  };
}
