/**
 * Work a request starts but does not wait for: the answer to "Forgot your password?" must take the same
 * time whether or not the address has an account, so the lookup and the mail happen after it. Failures
 * are logged. Tests (and shutdown) wait for everything started with settleDetached().
 */
import type { Logger } from 'pino';

const pending = new Set<Promise<unknown>>();

export function runDetached(work: () => Promise<unknown>, logger: Logger | undefined, what: string): void {
  const p: Promise<unknown> = Promise.resolve()
    .then(work)
    .catch((err) => logger?.error({ err }, `${what} failed`))
    .finally(() => pending.delete(p));
  pending.add(p);
}

export async function settleDetached(): Promise<void> {
  while (pending.size) await Promise.all([...pending]);
}
