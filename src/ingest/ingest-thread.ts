/**
 * The ingest worker's thread (started by ./index.ts when a job is waiting). It has its own heap, its own
 * mongoose and its own small connection pool; it runs jobs until none is ready, then ends, so an idle
 * server carries no thread (about 40 MB).
 *
 * Why a thread: a bulk job allocates a mongoose document per row. In the server's own heap, V8 lets
 * that garbage grow to about four times the live size before collecting it (its growing factor for
 * large heaps), which took a 100k-row job to ~360 MB of RSS. A thread with a capped old generation
 * collects at a small multiple of its live size instead, and a job can never exhaust the memory that
 * serves requests: if the thread dies, the server logs it and starts another one, and the job resumes
 * from its last counted batch.
 */
import fs from 'node:fs';
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { connectWorkerThread } from '../data/connection';
import { processAvailableJobs } from './ingest-worker';
import { processAvailableBulkJobs } from '../qualification';
import { setLifecycleSettings, type LifecycleSettings } from '../shared/lifecycle-settings';

export interface IngestThreadData {
  uri: string;
  owner: string;
  leaseMs: number;
  batchSize: number;
  /** For the invitations mailed to imported users (public URL, link lifetime). */
  lifecycle?: LifecycleSettings;
}

/** What the thread tells the server; the server logs it (the thread has no logger of its own). */
export type IngestThreadMessage =
  | { type: 'ready'; tid: number | null; nice: number | null }
  | { type: 'finished'; jobs: number }
  | { type: 'error'; message: string; stack?: string };

/**
 * Bulk work gives way to requests: on Linux each thread has its own nice value, so this thread alone runs
 * at nice 10 (PRIORITY_BELOW_NORMAL; or the process's, if already lower) and the scheduler serves the request thread and the engine first
 * when the cores are busy; idle cores still run the job at full speed. Raising one's own nice value needs
 * no privilege. Elsewhere (no /proc/thread-self) the thread keeps the process's priority.
 * Returns the thread's id and nice value as the kernel now reports them.
 */
function runAtLowPriority(): { tid: number | null; nice: number | null } {
  try {
    const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop()); // "<pid>/task/<tid>"
    if (!Number.isInteger(tid) || tid <= 0) return { tid: null, nice: null };
    // Never below the process's own nice value (lowering it needs a privilege and would be refused).
    os.setPriority(tid, Math.max(os.getPriority(tid), os.constants.priority.PRIORITY_BELOW_NORMAL));
    return { tid, nice: os.getPriority(tid) };
  } catch {
    return { tid: null, nice: null };
  }
}

async function main(): Promise<void> {
  const data = workerData as IngestThreadData;
  if (data.lifecycle) setLifecycleSettings(data.lifecycle);
  const port = parentPort!;
  const send = (m: IngestThreadMessage) => port.postMessage(m);
  let stopping = false;
  port.on('message', (m: unknown) => {
    if (m === 'stop') stopping = true;
  });
  const disconnect = await connectWorkerThread(data.uri);
  send({ type: 'ready', ...runAtLowPriority() });
  // Until no job is ready: a job finished may have been followed by another upload meanwhile.
  for (let jobs = 1; jobs > 0 && !stopping; ) {
    try {
      jobs = await processAvailableJobs({
        owner: data.owner,
        leaseMs: data.leaseMs,
        batchSize: data.batchSize,
        shouldStop: () => stopping,
      });
      jobs += await processAvailableBulkJobs({ owner: data.owner, leaseMs: data.leaseMs, shouldStop: () => stopping });
      if (jobs) send({ type: 'finished', jobs });
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      send({ type: 'error', message: e.message, stack: e.stack });
      jobs = 0; // the server polls again; the job is retried when its lease expires
    }
  }
  await disconnect();
  port.close();
}

// A failure outside a job (could not connect) is left unhandled: the thread dies with the reason, and
// the server logs it and starts another.
void main();
