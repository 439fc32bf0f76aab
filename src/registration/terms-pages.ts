/**
 * The admin pages of terms and consent: /admin/terms (Manage Sites) publishes versions of a site's terms;
 * /admin/consents (View Audit Trail) searches the consent ledger by user, version and date, and exports
 * it as CSV (streamed). Registered by the admin router (src/admin/settings.ts) after its sign-in guard.
 */
import { Router, type Request, type Response } from 'express';
import { pipeline } from 'node:stream/promises';
import { consentCsv, listTermsVersions, publishTerms, searchConsents, type ConsentFilters } from './terms';
import { listSites } from '../sites';
import { parseDay } from '../audit';
import { formRoute, onRefusal } from '../http/error-writer';
import { actorOf, ctxOf, field, flash, queryString } from '../admin/routes';
import { csrfProtected } from '../http/csrf';

export const TERMS_PATHS = {
  terms: '/admin/terms',
  consents: '/admin/consents',
  consentsCsv: '/admin/consents.csv',
} as const;

function consentFilters(req: Request): ConsentFilters {
  const to = parseDay(queryString(req, 'to'), '"to"');
  return {
    user: queryString(req, 'user') || undefined,
    version: queryString(req, 'version') || undefined,
    from: parseDay(queryString(req, 'from'), '"from"'),
    to: to && new Date(to.getTime() + 86_399_999),
  };
}

export function adminTermsRouter(): Router {
  const router = csrfProtected(Router());

  const termsPage = async (req: Request, res: Response) => {
    const actor = actorOf(res);
    const [sites, versions] = await Promise.all([listSites(actor), listTermsVersions(actor)]);
    const body = (req.method === 'POST' && req.body && typeof req.body === 'object' ? req.body : {}) as Record<
      string,
      unknown
    >;
    const names = new Map(sites.map((s) => [String(s._id), s.name]));
    res.render('admin/terms', {
      title: 'Terms',
      sites,
      versions: versions.map((v) => ({ ...v, siteName: names.get(String(v.site)) ?? '' })),
      P: TERMS_PATHS,
      values: res.locals.error ? body : {},
      error: res.locals.error ?? null,
      fieldErrors: res.locals.fieldErrors ?? {},
    });
  };
  router.get(TERMS_PATHS.terms, termsPage);
  router.post(
    TERMS_PATHS.terms,
    formRoute(
      (req) => (r: Response) => termsPage(req, r),
      async (req, res) => {
        const v = await publishTerms(
          field(req, 'siteId'),
          { version: field(req, 'version'), text: field(req, 'text'), effectiveAt: field(req, 'effectiveAt') },
          ctxOf(req, res),
        );
        flash(
          req,
          'ok',
          `Terms version ${v.version} published; it takes effect on ${v.effectiveAt.toISOString().slice(0, 10)}.`,
        );
        res.redirect(303, TERMS_PATHS.terms);
      },
    ),
  );

  router.get(TERMS_PATHS.consents, async (req, res) => {
    const query = new URLSearchParams(
      Object.entries({
        user: queryString(req, 'user'),
        version: queryString(req, 'version'),
        from: queryString(req, 'from'),
        to: queryString(req, 'to'),
      }).filter(([, v]) => v),
    );
    const page = (rows: unknown[]) => ({
      title: 'Consent ledger',
      rows,
      q: Object.fromEntries(query),
      csvHref: `${TERMS_PATHS.consentsCsv}?${query}`,
      P: TERMS_PATHS,
      error: res.locals.error ?? null,
      fieldErrors: res.locals.fieldErrors ?? {},
    });
    onRefusal(res, async (r) => r.render('admin/consents', page([])));
    res.render('admin/consents', page(await searchConsents(actorOf(res), consentFilters(req))));
  });
  router.get(TERMS_PATHS.consentsCsv, async (req, res) => {
    const { rows, csv } = consentCsv(actorOf(res), consentFilters(req));
    res.type('text/csv').attachment('consent-ledger.csv');
    await pipeline(rows, csv, res);
  });

  return router;
}
