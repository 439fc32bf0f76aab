/**
 * The HTTP side of bot-check: the challenge the widget fetches, the widget itself (served from the
 * installed `altcha` package, so a fresh clone needs only `npm install`: no CDN, no copy to keep in
 * step), and the page locals of a form that asks for a proof.
 */
import path from 'node:path';
import express, { Router, type Response } from 'express';
import type { BotCheck, ProofFields } from './index';
import { NOSCRIPT_FIELD, POW_FIELD } from './index';

export const POW_PATHS = { challenge: '/pow/challenge', widget: '/vendor/altcha' } as const;

/**
 * The "external" build of the widget: its stylesheet and worker are files of their own instead of
 * inline styles and a blob: worker, which the strict CSP (style-src and script-src 'self') refuses.
 */
const WIDGET_DIR = path.join(path.dirname(require.resolve('altcha')), '..', 'dist_external');
const WIDGET_FILES = new Set(['/altcha.js', '/worker.js', '/altcha.css']);

export function botCheckRouter(botCheck: BotCheck, opts: { cacheSeconds: number }): Router {
  const router = Router();
  router.get(POW_PATHS.challenge, async (_req, res) => {
    // Each page load gets its own challenge: never cached, never shared.
    res.set('Cache-Control', 'no-store').json(await botCheck.challenge());
  });
  const files = express.static(WIDGET_DIR, { index: false, maxAge: opts.cacheSeconds * 1000 });
  router.use(POW_PATHS.widget, (req, res, next) => (WIDGET_FILES.has(req.path) ? files(req, res, next) : next()));
  return router;
}

/** What the pow partial (views/partials/pow.ejs) shows: the widget, and the no-script ticket. */
export function powLocals(botCheck: BotCheck, res: Response, required: boolean): void {
  res.locals.pow = required
    ? {
        required,
        ticket: botCheck.noscriptTicket(),
        waitSeconds: Math.ceil(botCheck.settings.noscriptWaitMs / 1000),
        challengeUrl: POW_PATHS.challenge,
        widget: POW_PATHS.widget,
      }
    : { required: false };
}

/** The proof fields of a form, as strings (a repeated or non-string field is no proof). */
export function readProof(body: unknown): ProofFields {
  const b = (body ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  return { altcha: str(b[POW_FIELD]), powWait: str(b[NOSCRIPT_FIELD]) };
}
