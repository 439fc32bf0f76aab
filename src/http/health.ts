/** Liveness and readiness probes for a load balancer or orchestrator. */
import { Router } from 'express';
import { databaseIsUp } from '../data/connection';

export function healthRouter(): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const up = await databaseIsUp();
    res.status(up ? 200 : 503).json({ status: up ? 'ready' : 'database unavailable' });
  });
  return router;
}
