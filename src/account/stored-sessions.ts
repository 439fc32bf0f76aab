/**
 * The session store's documents (connect-mongo, collection `sessions`, stored as objects): read to list
 * a user's sessions, and changed to end one. Ending a session removes only the area of that user, so an
 * admin signed in to the same browser stays signed in.
 */
import mongoose from 'mongoose';
import { AREAS, type Area } from '../shared/area';

export interface StoredSession {
  id: string;
  area: Area;
  signedInAt: Date;
  expires: Date;
  ip: string | null;
  userAgent: string | null;
  impersonated: boolean;
  /** "Keep me signed in": the session's own limit in ms. */
  keepMs: number | null;
}

interface SessionDoc {
  _id: string;
  expires: Date;
  session: Partial<
    Record<
      Area,
      {
        userId: string;
        epoch: number;
        signedInAt: number;
        ip?: string;
        userAgent?: string;
        impersonator?: unknown;
        keepMs?: number;
      }
    >
  >;
}

const sessions = () => mongoose.connection.db!.collection<SessionDoc>('sessions');

/** The live sessions in which `userId` is signed in to an area with the current epoch. */
export async function findUserSessions(
  userId: string,
  epoch: number,
  now: Date = new Date(),
): Promise<StoredSession[]> {
  const found: StoredSession[] = [];
  for (const area of AREAS) {
    const docs = await sessions()
      .find({ [`session.${area}.userId`]: userId, expires: { $gt: now } })
      .limit(200)
      .toArray();
    for (const d of docs) {
      const s = d.session[area]!;
      if ((s.epoch ?? 0) !== epoch) continue;
      found.push({
        id: d._id,
        area,
        signedInAt: new Date(s.signedInAt),
        expires: d.expires,
        ip: s.ip ?? null,
        userAgent: s.userAgent ?? null,
        impersonated: Boolean(s.impersonator),
        keepMs: s.keepMs ?? null,
      });
    }
  }
  return found.sort((a, b) => b.signedInAt.getTime() - a.signedInAt.getTime());
}

/** Signs `userId` out of `area` in one stored session; false when it is not theirs (or gone). */
export async function endUserSession(sessionId: string, area: Area, userId: string): Promise<boolean> {
  const res = await sessions().updateOne(
    { _id: sessionId, [`session.${area}.userId`]: userId },
    { $unset: { [`session.${area}`]: '' } },
  );
  return res.modifiedCount === 1;
}

/** Signs `userId` out of every stored session, except `keep` (this browser) when given. */
export async function endAllUserSessions(userId: string, keep?: string): Promise<number> {
  let ended = 0;
  for (const area of AREAS) {
    const filter: Record<string, unknown> = { [`session.${area}.userId`]: userId };
    if (keep) filter._id = { $ne: keep };
    ended += (await sessions().updateMany(filter as never, { $unset: { [`session.${area}`]: '' } })).modifiedCount;
  }
  return ended;
}
