import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { DEFAULTS, type IngestSettings, type MailSettings } from '../config';
import { startMailWorker, transportFor, type MailTransport } from '../mail';
import { lifecycleSettings, type LifecycleSettings } from '../shared/lifecycle-settings';
import { jobWaiting, workerId } from './ingest-worker';
import { bulkJobWaiting } from '../qualification';
import type { IngestThreadData, IngestThreadMessage } from './ingest-thread';

/**
 * Background work: the bulk ingest worker. The server looks for a ready job every `pollMs` (one small
 * query on its own connection) and only then starts the worker's thread (see ./ingest-thread.ts for why a
 * thread), which runs jobs under a lease, so any number of instances can poll the same database safely,
 * and ends when none is left: an idle server carries no thread. If the thread dies (an exception, or a
 * job that hit the thread's heap cap) it is logged and the next look comes after a growing pause; the job
 * it held resumes when its lease expires. stop() lets the batch in hand finish and hands the job back for
 * any instance to resume at once.
 */
export interface BackgroundWork {
  stop(): Promise<void>;
  /** Whether the ingest thread is running now (it runs only while there is work). */
  readonly threadRunning: boolean;
}

const MAX_RESTART_PAUSE_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

/** The thread's code: the compiled file, or, from TypeScript sources (tests, npm run dev), through tsx. */
function threadSource(): { source: string; evaluate: boolean } {
  const file = path.join(__dirname, `ingest-thread${path.extname(__filename)}`);
  if (file.endsWith('.js')) return { source: file, evaluate: false };
  return {
    source: `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(file)});`,
    evaluate: true,
  };
}

/**
 * The mail delivery worker (src/mail/worker.ts) runs here too, in the main thread (it mostly waits on
 * the network), with leases on each message so several instances share one queue.
 */
export interface MailWork {
  settings: MailSettings;
  isProduction: boolean;
  transport?: MailTransport;
}

export function startBackgroundWork(deps: {
  logger: Logger;
  databaseUri: string;
  ingest?: Partial<IngestSettings>;
  mail?: MailWork;
  lifecycle?: LifecycleSettings;
}): BackgroundWork {
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
  const settings = { ...DEFAULTS.ingest, ...deps.ingest };
  const log = deps.logger.child({ component: 'ingest-thread' });
  const data: IngestThreadData = {
    uri: deps.databaseUri,
    owner: workerId(),
    leaseMs: settings.leaseMs,
    batchSize: settings.batchSize,
    lifecycle: deps.lifecycle ?? lifecycleSettings(),
  };
  let worker: Worker | null = null;
  let exited: Promise<void> = Promise.resolve();
  let stopping = false;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;

  const lookLater = (ms: number) => {
    if (stopping) return;
    timer = setTimeout(look, ms);
    timer.unref(); // never what keeps the process alive
  };

  async function look(): Promise<void> {
    if (stopping || worker) return;
    let waiting = false;
    try {
      // Bulk actions of the qualification queue run in the same thread, under the same kind of lease.
      waiting = (await jobWaiting()) || (await bulkJobWaiting());
    } catch (err) {
      log.warn({ err }, 'Could not look for ingest jobs; trying again');
    }
    if (stopping) return;
    if (waiting) {
      log.debug('Starting the ingest thread for a waiting job');
      start();
    } else {
      log.debug('No ingest job waiting');
      lookLater(settings.pollMs);
    }
  }

  const start = () => {
    const { source, evaluate } = threadSource();
    const w = new Worker(source, {
      eval: evaluate,
      workerData: data,
      resourceLimits: { maxOldGenerationSizeMb: settings.threadHeapMb },
    });
    worker = w;
    w.unref();
    w.on('message', (m: IngestThreadMessage) => {
      if (m.type === 'ready') {
        failures = 0;
        log.debug({ tid: m.tid, nice: m.nice }, 'The ingest thread is ready');
      } else if (m.type === 'finished') log.info({ jobs: m.jobs }, 'Ingest jobs finished');
      else if (m.type === 'error')
        log.error(
          { err: { message: m.message, stack: m.stack } },
          'Ingest worker failed; the job is retried when its lease expires',
        );
    });
    w.on('error', (err) => log.error({ err }, 'The ingest thread died'));
    exited = new Promise((resolve) => {
      w.once('exit', (code) => {
        worker = null;
        resolve();
        if (stopping) return;
        if (code === 0) {
          log.debug('The ingest thread is done: no job left');
          return lookLater(settings.pollMs);
        }
        const pause = Math.min(MAX_RESTART_PAUSE_MS, settings.pollMs * 2 ** failures++);
        log.warn({ code, restartInMs: pause }, 'The ingest thread stopped; starting another');
        lookLater(pause);
      });
    });
  };
  void look();

  return {
    get threadRunning() {
      return worker !== null;
    },
    async stop() {
      stopping = true;
      clearTimeout(timer);
      await mail?.stop();
      const w = worker as Worker | null;
      if (!w) return;
      w.postMessage('stop');
      const timeout = new Promise<'timeout'>((resolve) => setTimeout(resolve, STOP_TIMEOUT_MS, 'timeout').unref());
      if ((await Promise.race([exited, timeout])) === 'timeout') await w.terminate();
    },
  };
}

// What other features use from here (their only way in).
export { changeIngestJobState, createIngestJob, deleteIngestJob, findIngestJob, listIngestJobs } from './ingest-jobs';
export { type ResultKind, resultsCsv } from './ingest-results';
export { uploadCsv } from './ingest-upload';
export { ingestInOneStep } from './one-step-upload';
