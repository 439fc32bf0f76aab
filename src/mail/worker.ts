/**
 * The mail delivery worker, on the lease pattern of the ingest worker (src/jobs/ingest-worker.ts).
 *
 * A message is claimed by one conditional findOneAndUpdate: `queued` and due, or `sending` under a lease
 * that ran out (its worker died mid-delivery). The claim moves it to `sending`, names this worker as the
 * lease owner and counts the attempt. Then:
 *  - delivered: `sent` (and, for SMTP, its bodies are dropped: the links left with the mail);
 *  - refused or unreachable: back to `queued` with `nextAttemptAt` pushed out by the backoff
 *    (30 s, 1 min, 2 min, ... capped at 1 h), or `failed` after the last attempt.
 * Both settling writes are conditional on still holding the lease, so a worker that stalled past its
 * lease cannot overwrite its successor's result. A crash between sending and settling sends the
 * message again after the lease expires: at-least-once, as every mail queue is.
 */
import os from 'node:os';
import { DEFAULTS } from '../config';
import crypto from 'node:crypto';
import { trusted } from 'mongoose';
import type { Logger } from 'pino';
import { MailMessageModel, type MailMessageDoc } from '../data/models';
import type { MailTransport } from './transport';
import { mailQueued } from './queue';

export interface MailWorkerOptions {
  transport: MailTransport;
  from: string;
  owner?: string;
  /** The clock used for leases and backoff; tests move it instead of waiting. */
  now?: () => Date;
  leaseMs?: number;
  maxAttempts?: number;
  logger?: Logger;
}

const BASE_BACKOFF_MS = 30_000;
const MAX_BACKOFF_MS = 3_600_000;

/** The pause before attempt n+1 after n failed attempts. */
export function backoffMs(attempts: number): number {
  return Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** Math.max(0, attempts - 1));
}

/**
 * The From of a message: the site's sender name and address where it set them, MAIL_FROM's otherwise.
 * The name is quoted (quotes and backslashes dropped; the site form refuses them anyway) so a comma or
 * a Japanese name stays one display name; nodemailer encodes non-ASCII names.
 */
export function senderOf(msg: { fromName?: string | null; fromAddress?: string | null }, fallback: string): string {
  if (!msg.fromName && !msg.fromAddress) return fallback;
  const m = /^\s*"?([^"<]*?)"?\s*<([^>]+)>\s*$/.exec(fallback);
  const name = (msg.fromName ?? m?.[1] ?? '').replace(/["\\\r\n]/g, '').trim();
  const address = msg.fromAddress ?? m?.[2] ?? fallback.trim();
  return name ? `"${name}" <${address}>` : address;
}

export const mailWorkerId = () => `${os.hostname()}:${process.pid}:mail:${crypto.randomBytes(4).toString('hex')}`;

export async function claimNextMail(opts: MailWorkerOptions & { owner: string }): Promise<MailMessageDoc | null> {
  const now = (opts.now ?? (() => new Date()))();
  return MailMessageModel.findOneAndUpdate(
    {
      $or: [
        { state: 'queued', nextAttemptAt: trusted({ $lte: now }) },
        { state: 'sending', leaseExpiresAt: trusted({ $lte: now }) },
      ],
    },
    {
      $set: {
        state: 'sending',
        leaseOwner: opts.owner,
        leaseExpiresAt: new Date(now.getTime() + (opts.leaseMs ?? DEFAULTS.mail.leaseMs)),
      },
      $inc: { attempts: 1 },
    },
    { sort: { nextAttemptAt: 1, _id: 1 }, returnDocument: 'after' },
  );
}

export interface DeliveryCounts {
  sent: number;
  retried: number;
  failed: number;
}

/** Delivers every message that is due now; returns what happened. */
export async function deliverDueMail(options: MailWorkerOptions): Promise<DeliveryCounts> {
  const opts = { ...options, owner: options.owner ?? mailWorkerId() };
  const clock = opts.now ?? (() => new Date());
  const maxAttempts = opts.maxAttempts ?? DEFAULTS.mail.maxAttempts;
  const counts: DeliveryCounts = { sent: 0, retried: 0, failed: 0 };
  for (;;) {
    const msg = await claimNextMail(opts);
    if (!msg) return counts;
    const mine = { _id: msg._id, state: 'sending' as const, leaseOwner: opts.owner };
    try {
      await opts.transport.send({
        from: senderOf(msg, opts.from),
        to: msg.to,
        subject: msg.subject,
        text: msg.text ?? '',
        html: msg.html ?? '',
        template: msg.template,
      });
      const bodies = opts.transport.kind === 'smtp' ? { text: null, html: null } : {};
      await MailMessageModel.updateOne(mine, {
        $set: {
          state: 'sent',
          deliveredVia: opts.transport.kind,
          sentAt: clock(),
          lastError: null,
          leaseOwner: null,
          leaseExpiresAt: null,
          ...bodies,
        },
      });
      counts.sent++;
    } catch (err) {
      const reason = (err instanceof Error ? err.message : String(err)).slice(0, 500);
      const last = msg.attempts >= maxAttempts;
      await MailMessageModel.updateOne(mine, {
        $set: {
          state: last ? 'failed' : 'queued',
          lastError: reason,
          nextAttemptAt: new Date(clock().getTime() + backoffMs(msg.attempts)),
          leaseOwner: null,
          leaseExpiresAt: null,
        },
      });
      if (last) counts.failed++;
      else counts.retried++;
      opts.logger?.warn(
        { mail: String(msg._id), to: msg.to, attempts: msg.attempts, err: reason, willRetry: !last },
        'Mail delivery failed',
      );
    }
  }
}

export interface MailWorker {
  stop(): Promise<void>;
}

/** Polls every `pollMs`, and at once when this process queues a message. */
export function startMailWorker(options: MailWorkerOptions & { pollMs: number }): MailWorker {
  const opts = { ...options, owner: options.owner ?? mailWorkerId() };
  let stopped = false;
  let busy = false;
  let again = false;
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;

  const run = () => {
    if (stopped) return;
    if (busy) {
      again = true; // picked up by the loop in hand
      return;
    }
    busy = true;
    clearTimeout(timer);
    running = (async () => {
      do {
        again = false;
        try {
          await deliverDueMail(opts);
        } catch (err) {
          opts.logger?.error({ err }, 'The mail worker failed; it tries again at its next poll');
        }
      } while (again && !stopped);
      busy = false;
      if (!stopped) {
        timer = setTimeout(run, opts.pollMs);
        timer.unref();
      }
    })();
  };
  const onQueued = () => run();
  mailQueued.on('queued', onQueued);
  run();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      mailQueued.off('queued', onQueued);
      await running;
      opts.transport.close();
    },
  };
}
