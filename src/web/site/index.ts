import { Router } from 'express';
import type { AppDeps } from '../deps';

/** The sites: /s/<slug>/... and the redirects from /, /register, /login. */
export function siteRouter(_deps: AppDeps): Router {
  return Router();
}
