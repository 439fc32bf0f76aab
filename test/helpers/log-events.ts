/** A pino logger whose lines a test can wait for, instead of polling with sleeps. */
import pino, { type Logger } from 'pino';

export interface LogLine {
  msg: string;
  [key: string]: unknown;
}

export function capturingLogger(level = 'info'): {
  logger: Logger;
  lines: LogLine[];
  waitFor(pred: (lines: LogLine[]) => boolean): Promise<void>;
} {
  const lines: LogLine[] = [];
  const waiters: { pred: (l: LogLine[]) => boolean; resolve: () => void }[] = [];
  const logger = pino(
    { level },
    {
      write(s: string) {
        lines.push(JSON.parse(s) as LogLine);
        for (const w of [...waiters]) {
          if (w.pred(lines)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve();
          }
        }
      },
    },
  );
  return {
    logger,
    lines,
    waitFor(pred) {
      if (pred(lines)) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ pred, resolve }));
    },
  };
}
