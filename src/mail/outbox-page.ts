/** The mail outbox (no SMTP_URL): what was sent, newest first, with its text; link tokens are masked (mail/outbox.ts). */
import { Router } from 'express';
import { listOutbox, undeliveredMail, type OutboxAccess } from './outbox';
import { ADMIN, actorOf, queryString } from '../admin/routes';
import { csrfProtected } from '../http/csrf';

/** The text cut into plain pieces and links; only links without a token (masked ones are dead) are clickable. */
function withLinks(text: string): { text: string; href?: string }[] {
  const parts: { text: string; href?: string }[] = [];
  let last = 0;
  for (const m of text.matchAll(/https?:\/\/[^\s<>"]+/g)) {
    if (m.index! > last) parts.push({ text: text.slice(last, m.index) });
    parts.push(/[?&]token=/.test(m[0]) ? { text: m[0] } : { text: m[0], href: m[0] });
    last = m.index! + m[0].length;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  return parts;
}

export function adminOutboxRouter(smtpConfigured: boolean, access: OutboxAccess): Router {
  const router = csrfProtected(Router());
  router.get(ADMIN.outbox, async (req, res) => {
    const to = queryString(req, 'to');
    const [messages, problems] = await Promise.all([
      listOutbox(actorOf(res), access, { to: to || undefined }),
      undeliveredMail(actorOf(res), access),
    ]);
    res.render('admin/outbox', {
      title: 'Mail outbox',
      messages: messages.map((m) => ({ ...m, parts: withLinks(m.text) })),
      problems,
      to,
      smtpConfigured,
    });
  });
  return router;
}
