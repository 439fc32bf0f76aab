/**
 * "Asked to join" in the qualification queue: a contactless person's open request to become a community
 * member (community/join-requests.ts writes it). It is a flag, not a signal: it adds no points (asking
 * says nothing about who the person is), it is shown on the row with the person's reason as the why,
 * and the queue can be filtered to the people who asked. Open requests are few, so the filter is the
 * queue's indexed find narrowed to their users.
 */
import { trusted, type Types } from 'mongoose';
import { JoinRequestModel } from '../data/models';

/** The users with an open request (the queue's "Asked to join" filter). */
export async function usersWhoAsked(): Promise<Types.ObjectId[]> {
  const rows = await JoinRequestModel.find({ status: 'open' }).select('user').limit(100_000).lean();
  return rows.map((r) => r.user);
}

/** The reason of each of these users' open request, by user id. */
export async function openAsksOf(userIds: Types.ObjectId[]): Promise<Map<string, string>> {
  if (!userIds.length) return new Map();
  const rows = await JoinRequestModel.find({ user: trusted({ $in: userIds }), status: 'open' })
    .select('user reason')
    .lean();
  return new Map(rows.map((r) => [String(r.user), r.reason]));
}

/** Every open request's reason, by user id (the CSV export: open requests are few, read once). */
export async function allOpenAsks(): Promise<Map<string, string>> {
  const rows = await JoinRequestModel.find({ status: 'open' }).select('user reason').limit(100_000).lean();
  return new Map(rows.map((r) => [String(r.user), r.reason]));
}

/** The row's why for the flag (first, before the signals). */
export const askedReason = (reason: string): string => `Asked to join: “${reason}” (+0)`;
