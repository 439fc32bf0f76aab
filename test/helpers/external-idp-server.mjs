/**
 * A second OpenID provider for the tests of "Continue with": oidc-provider (panva) with its in-memory
 * adapter, on loopback, on a port the system picks. Run as its own process (oidc-provider is ESM-only and
 * the tests' jest is CommonJS): it prints `ISSUER <url>` once listening. Its sign-in page is a plain form
 * where the test (or the browser) says who signs in and what the provider claims about them.
 * Argument: JSON { clients: [{ client_id, client_secret, redirect_uris }] }.
 */
import http from 'node:http';
import process from 'node:process';
import { URLSearchParams } from 'node:url';
import Provider from 'oidc-provider';

const { clients } = JSON.parse(process.argv[2] ?? '{"clients":[]}');
const accounts = new Map();
const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: clients.map((c) => ({
    ...c,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
  })),
  findAccount: (_ctx, id) =>
    accounts.has(id) ? { accountId: id, claims: () => ({ sub: id, ...accounts.get(id) }) } : undefined,
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['given_name', 'family_name'] },
  // The claims in the ID token too, as many providers send them.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: false } },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  pkce: { required: () => true },
  cookies: { keys: ['external-idp-test-cookie-key'] },
  // Consent is not what these tests are about: every client gets what it asks for.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
});

const page = (
  uid,
) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test provider sign-in</title></head><body><main>
<h1>Test provider</h1>
<form method="post" action="/interaction/${uid}">
<p><label for="login">Account</label> <input id="login" name="login"></p>
<p><label for="email">Email</label> <input id="email" name="email"></p>
<p><label for="given_name">Given name</label> <input id="given_name" name="given_name"></p>
<p><label for="family_name">Family name</label> <input id="family_name" name="family_name"></p>
<p><input type="checkbox" id="verified" name="verified" value="yes" checked> <label for="verified">Email verified</label></p>
<button type="submit">Sign in</button>
</form></main></body></html>`;

const callback = provider.callback();
server.on('request', async (req, res) => {
  const m = /^\/interaction\/([\w-]+)$/.exec(req.url ?? '');
  if (!m) return callback(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    if (req.method === 'GET') {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      return res.end(page(details.uid));
    }
    let body = '';
    for await (const chunk of req) body += chunk;
    const f = new URLSearchParams(body);
    const login = f.get('login');
    accounts.set(login, {
      email: f.get('email') || undefined,
      email_verified: f.get('verified') === 'yes',
      given_name: f.get('given_name') || undefined,
      family_name: f.get('family_name') || undefined,
    });
    await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
  } catch (err) {
    res.statusCode = 400;
    res.end(String(err));
  }
});
process.stdout.write(`ISSUER ${issuer}\n`);
