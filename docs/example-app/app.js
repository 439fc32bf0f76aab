/**
 * A minimal app that signs people in through the portal (OpenID Connect, authorization code + PKCE),
 * with openid-client 6. Node 20.19+ (it require()s ES modules). Run it:
 *
 *   ISSUER=http://localhost:3000/oidc CLIENT_ID=… CLIENT_SECRET=… node docs/example-app/app.js
 *
 * and open http://localhost:4000/. Register http://localhost:4000/callback as the app's redirect URI
 * and http://localhost:4000/ as its after-logout address (Admin → Connected apps). CLIENT_SECRET unset:
 * a public app (PKCE only). The portal's tests start it too (test/browser/oidc-example-app.test.ts).
 * Kept small on purpose: sessions in memory, no styling, every page escaped text.
 */
'use strict';
const http = require('node:http');
const crypto = require('node:crypto');
const client = require('openid-client');

const escapeHtml = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const page = (res, status, body) => {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Example app</title></head><body><main>${body}</main></body></html>`,
  );
};

/**
 * Starts the app; resolves with its address and a stop function. `allowHttp` lets it talk to a portal on
 * plain http (development on localhost only: never in production).
 */
async function startExampleApp({ issuer, clientId, clientSecret, port = 4000, host = '127.0.0.1', allowHttp = false }) {
  const server = http.createServer();
  await new Promise((resolve) => server.listen(port, host, resolve));
  const base = `http://${host}:${server.address().port}`;
  const auth = clientSecret ? client.ClientSecretBasic(clientSecret) : client.None();
  const config = await client.discovery(
    new URL(issuer),
    clientId,
    undefined,
    auth,
    allowHttp ? { execute: [client.allowInsecureRequests] } : undefined,
  );
  /** session id (cookie) -> { pending: { verifier, state, nonce } } or { claims, idToken } */
  const sessions = new Map();
  const sessionOf = (req, res) => {
    const id = /(?:^|;\s*)sid=([\w-]+)/.exec(req.headers.cookie || '')?.[1];
    if (id && sessions.has(id)) return sessions.get(id);
    const fresh = crypto.randomUUID();
    const s = {};
    sessions.set(fresh, s);
    res.setHeader('set-cookie', `sid=${fresh}; HttpOnly; SameSite=Lax; Path=/`);
    return s;
  };

  server.on('request', async (req, res) => {
    const url = new URL(req.url, base);
    const session = sessionOf(req, res);
    try {
      if (url.pathname === '/') {
        if (!session.claims)
          return page(res, 200, '<h1>Example app</h1><p><a id="sign-in" href="/login">Sign in with the portal</a></p>');
        return page(
          res,
          200,
          `<h1>Example app</h1><p id="signed-in">Signed in as ${escapeHtml(session.claims.email || session.claims.sub)}</p><pre id="claims">${escapeHtml(JSON.stringify(session.claims, null, 2))}</pre><p><a href="/logout">Log out</a></p>`,
        );
      }
      if (url.pathname === '/login') {
        const verifier = client.randomPKCECodeVerifier();
        session.pending = { verifier, state: client.randomState(), nonce: client.randomNonce() };
        const target = client.buildAuthorizationUrl(config, {
          redirect_uri: `${base}/callback`,
          scope: 'openid email profile portal',
          code_challenge: await client.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
          state: session.pending.state,
          nonce: session.pending.nonce,
        });
        res.writeHead(303, { location: target.href }).end();
        return;
      }
      if (url.pathname === '/callback') {
        const pending = session.pending;
        delete session.pending;
        if (!pending) return page(res, 400, '<p>No sign-in in progress. <a href="/">Start again</a></p>');
        const tokens = await client.authorizationCodeGrant(config, url, {
          pkceCodeVerifier: pending.verifier,
          expectedState: pending.state,
          expectedNonce: pending.nonce,
        });
        const claims = tokens.claims();
        session.claims = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
        session.idToken = tokens.id_token;
        res.writeHead(303, { location: '/' }).end();
        return;
      }
      if (url.pathname === '/logout') {
        const idToken = session.idToken;
        delete session.claims;
        delete session.idToken;
        const target = client.buildEndSessionUrl(config, {
          post_logout_redirect_uri: `${base}/`,
          ...(idToken ? { id_token_hint: idToken } : {}),
        });
        res.writeHead(303, { location: target.href }).end();
        return;
      }
      page(res, 404, '<p>Not found</p>');
    } catch (err) {
      page(
        res,
        400,
        `<p>Sign-in failed: ${escapeHtml(err.error || err.message)}</p><p><a href="/">Start again</a></p>`,
      );
    }
  });
  return {
    url: base,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  };
}

module.exports = { startExampleApp };

if (require.main === module) {
  const { ISSUER, CLIENT_ID, CLIENT_SECRET, PORT } = process.env;
  if (!ISSUER || !CLIENT_ID) {
    process.stderr.write(
      'Set ISSUER (e.g. http://localhost:3000/oidc) and CLIENT_ID (and CLIENT_SECRET for a confidential app).\n',
    );
    process.exit(64);
  }
  const issuerUrl = new URL(ISSUER);
  startExampleApp({
    issuer: ISSUER,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    port: Number(PORT || 4000),
    allowHttp: issuerUrl.protocol === 'http:' && ['localhost', '127.0.0.1'].includes(issuerUrl.hostname),
  }).then(({ url }) => process.stdout.write(`Example app at ${url}/\n`));
}
