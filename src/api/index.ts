import { Router } from 'express';
import type { AppDeps } from '../web/deps';

/** REST API under /api (v1). */
export function apiRouter(_deps: AppDeps): Router {
  return Router();
}
