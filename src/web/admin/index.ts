import { Router } from 'express';
import type { AppDeps } from '../deps';

/** The admin area under /admin. */
export function adminRouter(_deps: AppDeps): Router {
  return Router();
}
