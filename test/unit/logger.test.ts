import { Writable } from 'node:stream';
import pino from 'pino';
import { REDACT_PATHS } from '../../src/logger';

describe('logger redaction', () => {
  it('never writes passwords, hashes, tokens or cookies', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const log = pino({ redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink);
    log.info(
      {
        password: 'hunter2-secret',
        user: { passwordHash: '$argon2id$abc', token: 'ipt_secret' },
        req: { headers: { cookie: 'portal.sid=s%3Asecret', authorization: 'Bearer ipt_x' } },
      },
      'event',
    );
    const out = lines.join('');
    for (const secret of ['hunter2-secret', '$argon2id$abc', 'ipt_secret', 'portal.sid=s%3Asecret', 'Bearer ipt_x'])
      expect(out).not.toContain(secret);
    expect(out).toContain('[redacted]');
  });
});
