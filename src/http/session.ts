/**
 * Sessions live in MongoDB (connect-mongo, expiring by TTL index) so any instance behind a load balancer
 * can serve any request. The cookie is httpOnly and SameSite=Lax, Secure and __Host- in production; it rolls with
 * activity (idle timeout) while signedInAt enforces an absolute lifetime on the server (signin/session-middleware.ts).
 */
import session from 'express-session';
import MongoStore from 'connect-mongo';
import type mongoose from 'mongoose';
import type { RequestHandler } from 'express';
import type { Config } from '../config';

export const SESSION_COOKIE = 'portal.sid';

/**
 * In production the cookie is named `__Host-portal.sid`: a browser keeps a __Host- cookie only when it is
 * Secure, has Path=/ and no Domain, so a sibling subdomain cannot plant or overwrite the session (fixation).
 * Development runs over plain http, where a __Host- cookie would be dropped.
 */
export function sessionCookieName(isProduction: boolean): string {
  return isProduction ? `__Host-${SESSION_COOKIE}` : SESSION_COOKIE;
}

/** The session cookie's name for this app (set by sessionMiddleware's caller through app.set). */
export function sessionCookieOf(req: { app: { get(name: string): unknown } }): string {
  const name = req.app.get('session cookie');
  return typeof name === 'string' ? name : SESSION_COOKIE;
}

export function sessionMiddleware(config: Config, connection: mongoose.Connection): RequestHandler {
  const store = MongoStore.create({
    client: connection.getClient() as never,
    dbName: connection.db?.databaseName,
    collectionName: 'sessions',
    ttl: Math.ceil(config.session.idleMs / 1000),
    autoRemove: 'native',
    touchAfter: 60, // write an unchanged session back at most once a minute
    stringify: false,
  });
  return session({
    name: sessionCookieName(config.isProduction),
    secret: config.sessionSecret,
    store,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    proxy: config.trustProxy > 0,
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      // Secure in production: behind a TLS-terminating proxy set TRUST_PROXY, or no cookie is sent at all.
      secure: config.isProduction,
      maxAge: config.session.idleMs,
      path: '/',
    },
  });
}
