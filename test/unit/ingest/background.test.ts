/** The background worker started by server.ts picks up ready jobs by itself; uploads that break leave nothing. */
import os from 'node:os';
import { Readable } from 'node:stream';
import { startTestApp, type TestApp } from '../../helpers/app';
import { IngestJobModel, IngestJobRowModel, ProfileModel, UserModel } from '../../../src/data/models';
import { createAdministrator } from '../../../src/users/bootstrap';
import { loadActor, type Actor } from '../../../src/access/actor';
import { changeIngestJobState, createIngestJob } from '../../../src/ingest/ingest-jobs';
import { uploadCsv } from '../../../src/ingest/ingest-upload';
import { startBackgroundWork } from '../../../src/ingest';
import { capturingLogger } from '../../helpers/log-events';

let t: TestApp;
let actor: Actor;
let ei: string;
beforeAll(async () => {
  t = await startTestApp('jobs-background');
  const admin = (await createAdministrator({
    username: 'bg-admin@example.com',
    password: 'lantern-copper-wisdom-77',
    lastName: 'Admin',
  }))!;
  actor = (await loadActor(admin._id))!;
  ei = String((await ProfileModel.findOne({ name: 'External Identity User' }).lean())!._id);
});
afterAll(() => t.stop());
const ctx = () => ({ actor, via: 'api' as const });

it('polls for ready jobs and completes them; stop() waits for the work in hand', async () => {
  const job = await createIngestJob({ object: 'User', operation: 'insert' }, ctx());
  await uploadCsv(
    job,
    Readable.from([`LastName,Email,ProfileId\nBg,bg1@example.com,${ei}\nBg,bg2@example.com,${ei}\n`]),
    { maxBytes: 1e6 },
  );
  await changeIngestJobState(String(job._id), 'UploadComplete', ctx());
  const log = capturingLogger();
  const worker = startBackgroundWork({ logger: log.logger, databaseUri: t.db.uri, ingest: { pollMs: 50 } });
  try {
    // The thread reports each finished job; waiting for that line needs no timing assumption.
    await log.waitFor((lines) => lines.some((l) => l.msg === 'Ingest jobs finished'));
    expect((await IngestJobModel.findById(job._id).lean())!.state).toBe('JobComplete');
  } finally {
    await worker.stop();
  }
  expect(await UserModel.countDocuments({ username: /^bg\d@example\.com$/ })).toBe(2);
});

it('an upload that breaks midway (the client went away) leaves no rows and the job open for another try', async () => {
  const job = await createIngestJob({ object: 'User', operation: 'insert' }, ctx());
  async function* broken() {
    yield `LastName,Email,ProfileId\n${`Row,row@example.com,${ei}\n`.repeat(2500)}`;
    throw new Error('connection reset');
  }
  await expect(uploadCsv(job, Readable.from(broken()), { maxBytes: 1e7 })).rejects.toThrow('connection reset');
  expect(await IngestJobRowModel.countDocuments({ job: job._id })).toBe(0);
  expect(await IngestJobModel.findById(job._id).lean()).toMatchObject({
    state: 'Open',
    uploadState: 'none',
    numberRecordsUploaded: 0,
  });
  const again = await uploadCsv(
    (await IngestJobModel.findById(job._id))!,
    Readable.from([`LastName,Email,ProfileId\nOk,ok@example.com,${ei}\n`]),
    { maxBytes: 1e6 },
  );
  expect(again.rows).toBe(1);
});

it('starts no thread while no job is waiting, one as soon as a job is ready, and the thread ends when the work is done', async () => {
  const log = capturingLogger('debug');
  const count = (msg: string) => log.lines.filter((l) => l.msg === msg).length;
  const worker = startBackgroundWork({ logger: log.logger, databaseUri: t.db.uri, ingest: { pollMs: 50 } });
  try {
    // Three looks at the queue, each finding nothing: no thread was started.
    await log.waitFor(() => count('No ingest job waiting') >= 3);
    expect(worker.threadRunning).toBe(false);
    expect(count('Starting the ingest thread for a waiting job')).toBe(0);
    const job = await createIngestJob({ object: 'User', operation: 'insert' }, ctx());
    await uploadCsv(job, Readable.from([`LastName,Email,ProfileId\nLate,late@example.com,${ei}\n`]), { maxBytes: 1e6 });
    await changeIngestJobState(String(job._id), 'UploadComplete', ctx());
    await log.waitFor(() => count('Ingest jobs finished') === 1);
    expect((await IngestJobModel.findById(job._id).lean())!.state).toBe('JobComplete');
    expect(count('Starting the ingest thread for a waiting job')).toBe(1);
    await log.waitFor(() => count('The ingest thread is done: no job left') === 1);
    expect(worker.threadRunning).toBe(false);
  } finally {
    await worker.stop();
  }
});

it('a thread that dies is logged and started again after a growing pause; the server process lives on', async () => {
  // A job is waiting, so the server starts a thread for it.
  const job = await createIngestJob({ object: 'User', operation: 'insert' }, ctx());
  await uploadCsv(job, Readable.from([`LastName,Email,ProfileId\nDies,dies@example.com,${ei}\n`]), { maxBytes: 1e6 });
  await changeIngestJobState(String(job._id), 'UploadComplete', ctx());
  const log = capturingLogger();
  const restarts = () => log.lines.filter((l) => l.restartInMs !== undefined).map((l) => l.restartInMs);
  // An unparsable URI makes every thread fail as it starts, the way a lost database would.
  const worker = startBackgroundWork({ logger: log.logger, databaseUri: 'not-a-mongodb-uri', ingest: { pollMs: 50 } });
  try {
    // However slow the machine is to start threads, the third restart line comes; wait for it.
    await log.waitFor(() => restarts().length >= 3);
  } finally {
    await worker.stop();
  }
  expect(restarts().slice(0, 3)).toEqual([50, 100, 200]);
  expect(
    log.lines.some(
      (l) =>
        l.msg === 'The ingest thread died' &&
        /Invalid scheme|mongodb/i.test((l.err as { message?: string } | undefined)?.message ?? ''),
    ),
  ).toBe(true);
});

(process.platform === 'linux' ? it : it.skip)(
  'the ingest thread runs below the priority of the threads that serve requests (nice 10), which keep theirs',
  async () => {
    const before = os.getPriority(); // this process's main thread, which serves the requests
    const job = await createIngestJob({ object: 'User', operation: 'insert' }, ctx());
    await uploadCsv(job, Readable.from([`LastName,Email,ProfileId\nNice,nice@example.com,${ei}\n`]), {
      maxBytes: 1e6,
    });
    await changeIngestJobState(String(job._id), 'UploadComplete', ctx());
    const log = capturingLogger('debug');
    const worker = startBackgroundWork({ logger: log.logger, databaseUri: t.db.uri, ingest: { pollMs: 50 } });
    try {
      await log.waitFor((lines) => lines.some((l) => l.msg === 'The ingest thread is ready'));
      const ready = log.lines.find((l) => l.msg === 'The ingest thread is ready') as unknown as {
        tid: number;
        nice: number;
      };
      expect(Number.isInteger(ready.tid) && ready.tid !== process.pid).toBe(true); // a thread, not the process
      expect(ready.nice).toBe(Math.max(before, 10));
      expect(os.getPriority()).toBe(before);
      await log.waitFor((lines) => lines.some((l) => l.msg === 'Ingest jobs finished'));
    } finally {
      await worker.stop();
    }
    expect(await UserModel.countDocuments({ username: 'nice@example.com' })).toBe(1);
  },
);
