import { Router } from 'express';
import type { AppDeps } from '../web/deps';

/** SCIM 2.0 under /scim/v2. */
export function scimRouter(_deps: AppDeps): Router {
  return Router();
}
