/**
 * A CSV download streamed from an async sequence of lines (the admin area's exports). The first line is
 * awaited before anything is sent: a refusal (permissions, a bad filter) is thrown there and reaches the
 * error writer as a clear page, not a half-sent file. Then the rest is piped with pipeline(), so a client
 * that goes away ends the reading too.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Response } from 'express';

export async function sendCsvLines(res: Response, filename: string, lines: AsyncGenerator<string>): Promise<void> {
  const first = await lines.next();
  res.status(200).type('text/csv; charset=utf-8').attachment(filename);
  await pipeline(
    Readable.from(
      (async function* () {
        if (!first.done) yield first.value;
        yield* lines;
      })(),
    ),
    res,
  );
}
