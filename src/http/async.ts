import type { NextFunction, Request, RequestHandler, Response } from 'express';

/** Express 5 forwards rejected promises itself; this only gives handlers a precise type. */
export type AsyncHandler = (req: Request, res: Response, next: NextFunction) => Promise<unknown>;
export const handle = (fn: AsyncHandler): RequestHandler => (req, res, next) => {
  fn(req, res, next).catch(next);
};
