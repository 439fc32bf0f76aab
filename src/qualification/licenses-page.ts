/** The Licenses page: seats in use and the total of each license. Registered by the admin router (src/admin/index.ts) after its sign-in guard. */
import { Router, type Response } from 'express';
import { changeTotalSeats, listLicenses } from './licenses';
import { seatMeter } from './seat-forecast';
import { formRoute } from '../http/error-writer';
import { ADMIN, actorOf, ctxOf, field, flash } from '../admin/routes';
import { csrfProtected } from '../http/csrf';

export function adminLicensesRouter(): Router {
  const router = csrfProtected(Router());

  const licensesPage = async (res: Response) => {
    const licenses = await listLicenses(actorOf(res));
    // The seat meter's forecast per license (seat-forecast.ts), keyed by id for the view.
    const forecasts = Object.fromEntries((await seatMeter(actorOf(res))).map((f) => [String(f.licenseId), f]));
    res.render('admin/licenses', {
      title: 'Licenses',
      licenses,
      forecasts,
      error: res.locals.error ?? null,
      fieldErrors: res.locals.fieldErrors ?? {},
    });
  };
  router.get(ADMIN.licenses, async (_req, res) => licensesPage(res));
  router.post(
    `${ADMIN.licenses}/:id`,
    formRoute(
      () => (r) => licensesPage(r),
      async (req, res) => {
        await changeTotalSeats(String(req.params.id), field(req, 'totalSeats'), ctxOf(req, res));
        flash(req, 'ok', 'Total seats saved.');
        res.redirect(303, ADMIN.licenses);
      },
    ),
  );

  return router;
}
