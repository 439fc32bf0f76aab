/**
 * Pages a browser must not keep: everything answered to a signed-in person (Back after sign-out would
 * otherwise show the account page or an admin's user records from the cache), the whole admin area,
 * and every page opened with a mailed token (reset, welcome, verify, confirm, setup), whose token sits
 * in the page. `no-store` keeps them out of the memory and disk caches and out of shared caches.
 */
import type { RequestHandler } from 'express';

/** Paths whose pages are reached by a link with a token or belong to a sign-in in progress. */
const TOKENISED = /^\/(?:admin|s\/[^/]+)\/(?:reset|welcome|verify-email|confirm-email|setup|login\/code)\/?$/;

export function noStoreForPrivatePages(): RequestHandler {
  return (req, res, next) => {
    if (
      req.siteUser ||
      req.adminUser ||
      req.path === '/admin' ||
      req.path.startsWith('/admin/') ||
      TOKENISED.test(req.path) ||
      /token(?:=|%3D)/i.test(req.originalUrl)
    ) {
      res.setHeader('Cache-Control', 'no-store');
    }
    next();
  };
}

/** The API and SCIM answer authenticated machines with people's records: never cached either. */
export const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader('Cache-Control', 'no-store');
  next();
};
