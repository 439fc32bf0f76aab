/**
 * Who a bulk action covers: users chosen one by one (their ids), or every user of a queue search. The
 * admin page and the API both resolve a selection here, so both ask the queue's permission first (a
 * refusal is a 403 whatever was selected) and read a search the same way (rank order, MAX_BULK_USERS).
 */
import { Types } from 'mongoose';
import type { Actor } from '../access';
import { queueUserTypes, searchUserIds } from './qualification-queue';
import type { QueueFilters, QueueSort } from './queue-query';

/** A queue search as the API sends it (ids as text; the page's readFilters gives QueueFilters directly). */
export interface QueueFilterInput {
  siteId?: string;
  verified?: boolean;
  minScore?: number;
  sort?: QueueSort;
}

export type BulkSelection = { userIds: string[] } | { filters: QueueFilters | QueueFilterInput };

function toFilters(f: QueueFilters | QueueFilterInput): QueueFilters {
  const { siteId, ...rest } = f;
  return { ...rest, ...(siteId ? { siteId: new Types.ObjectId(String(siteId)) } : {}) };
}

/** The ids the action will go through, in order; the ids themselves are checked by planBulk. */
export async function selectionUserIds(actor: Actor, selection: BulkSelection): Promise<string[]> {
  queueUserTypes(actor);
  if ('filters' in selection) return (await searchUserIds(actor, toFilters(selection.filters))).map(String);
  return selection.userIds;
}
