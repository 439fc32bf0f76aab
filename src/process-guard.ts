/**
 * The last line of defence: an error that escaped every handler (an 'error' event nobody listened to,
 * a rejected promise nobody awaited) is logged and the process keeps serving. Node's default is to
 * exit, which would let one bad request stop the portal for everyone. Every route already streams with
 * pipeline() and passes its errors to the one error writer; this guard only catches what slips past,
 * so each catch is logged at error level to be fixed at its cause.
 */
import type { Logger } from 'pino';

export function installProcessGuard(logger: Logger, proc: NodeJS.Process = process): () => void {
  const onException = (err: Error) => logger.error({ err }, 'Uncaught exception; the portal keeps serving');
  const onRejection = (reason: unknown) =>
    logger.error({ err: reason }, 'Unhandled promise rejection; the portal keeps serving');
  proc.on('uncaughtException', onException);
  proc.on('unhandledRejection', onRejection);
  return () => {
    proc.off('uncaughtException', onException);
    proc.off('unhandledRejection', onRejection);
  };
}
