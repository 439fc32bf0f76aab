import type { Logger } from 'pino';
import type { IngestSettings } from '../config';
import { processAvailableJobs, workerId } from './ingest-worker';

/**
 * Background workers: the bulk ingest worker polls the database for ready jobs every `pollMs` and runs
 * them under a lease, so any number of instances can poll the same database safely. stop() waits for
 * the batch in hand; a job left half-done is resumed by whichever instance claims it next.
 */
export function startBackgroundWork(deps: { logger: Logger; ingest?: Partial<IngestSettings> }): { stop(): Promise<void> } {
  const owner = workerId();
  const settings = { pollMs: 2000, leaseMs: 60_000, batchSize: 1000, ...deps.ingest };
  let running: Promise<unknown> | null = null;
  let stopped = false;
  const tick = () => {
    if (running || stopped) return;
    running = processAvailableJobs({ owner, leaseMs: settings.leaseMs, batchSize: settings.batchSize })
      .then((n) => {
        if (n) deps.logger.info({ jobs: n }, 'Ingest jobs finished');
      })
      .catch((err) => deps.logger.error({ err }, 'Ingest worker failed; the job is retried when its lease expires'))
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, settings.pollMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
