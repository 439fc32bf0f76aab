/**
 * Email domains as registration rules use them: lower-case, no leading "@" or dot, a rule matching the
 * domain itself and every subdomain (example.com matches mail.example.com, not badexample.com).
 */
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/;

/** The domain of an address, lower-case; '' when it has none. */
export function domainOf(email: string): string {
  const at = email.lastIndexOf('@');
  return at < 0
    ? ''
    : email
        .slice(at + 1)
        .trim()
        .toLowerCase()
        .replace(/\.$/, '');
}

/** A domain as typed by an admin ("@Example.com", " example.com. "), or null when it is not one. */
export function normaliseDomain(typed: string): string | null {
  const d = typed
    .trim()
    .toLowerCase()
    .replace(/^@/, '')
    .replace(/^\.+|\.+$/g, '');
  return DOMAIN.test(d) ? d : null;
}

/** Whether `domain` is `rule` or one of its subdomains. */
export function domainMatches(domain: string, rule: string): boolean {
  return domain === rule || domain.endsWith(`.${rule}`);
}

export function matchesAny(domain: string, rules: readonly string[]): boolean {
  return rules.some((r) => domainMatches(domain, r));
}
