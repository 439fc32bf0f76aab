/**
 * Builds the Express app: one straight list of middleware in order, then the routers, the 404 and the
 * one error handler. It does not listen (server.ts does), so tests drive it through supertest.
 */
import path from 'node:path';
import crypto from 'node:crypto';
import express from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import type { Logger } from 'pino';
import { secretFor, type Config } from './config';
import type { Database } from './data/connection';
import { configureSiteCache } from './sites';
import { configureSecretBox } from './federation';
import { sessionCookieName, sessionMiddleware } from './http/session';
import { loadSessionUsers, onSignIn } from './signin/routes';
import { cancelDeletionOnSignIn } from './privacy';
import { csrfMiddleware } from './http/csrf';
import cookieParser from 'cookie-parser';
import {
  createLoginThrottle,
  createPasswordRecheckThrottle,
  createRegistrationThrottle,
  createSecondFactorThrottle,
} from './signin';
import { passport } from './signin/routes';
import { healthRouter } from './http/health';
import { errorWriter } from './http/error-writer';
import { noStore, noStoreForPrivatePages } from './http/no-store';
import { NotFoundError } from './shared/errors';
import { siteRouter } from './account/routes';
import { PASSKEY_BROWSER_SCRIPT, passkeyBrowserScript } from './passkeys/routes';
import { adminRouter } from './admin';
import { localise } from './http/localise';
import { apiRouter } from './api';
import { scimRouter } from './scim';
import type { AppDeps } from './http/deps';
import { lifecycleOf, setLifecycleSettings } from './shared/lifecycle-settings';
import { MSG } from './shared/messages';
import { createBotCheck } from './bot-check';
import { botCheckRouter } from './bot-check/routes';
import { appOrigins, configureProviderSessions } from './oidc';
import { createProvider } from './oidc/provider';
import { OIDC_MOUNT, oidcProviderHandler } from './oidc/routes';

export const ROOT_DIR = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../..' : '..');

export const BODY_LIMITS = { form: '64kb', json: '1mb' } as const;

export interface AppOptions {
  /** The clock of proof-of-work expiries and deletion grace periods; tests move it instead of waiting. */
  now?: () => Date;
}

export function createApp(config: Config, db: Database, logger: Logger, opts: AppOptions = {}): express.Express {
  const now = opts.now ?? (() => new Date());
  setLifecycleSettings(lifecycleOf(config));
  configureSiteCache({ seconds: config.siteCacheSeconds });
  configureSecretBox(config.idpSecretKey);
  const deps: AppDeps = {
    config,
    db,
    logger,
    loginThrottle: createLoginThrottle(db.connection, config.throttle),
    registrationThrottle: createRegistrationThrottle(db.connection, config.registrationThrottle),
    recheckThrottle: createPasswordRecheckThrottle(db.connection, config.throttle),
    secondFactorThrottle: createSecondFactorThrottle(db.connection, config.throttle),
    botCheck: createBotCheck({ ...config.pow, hmacKey: secretFor(config, 'proof-of-work') }, now),
    now,
    oidc: createProvider(config.oidc, config.sessionSecret),
  };
  // A provider that cannot start (keys stored under another secret) is logged now; /oidc answers 500.
  deps.oidc.catch((err: unknown) => logger.error({ err }, 'The OpenID Connect provider could not start'));
  // Ending a person's sessions anywhere (deactivation, password change, admin) ends their provider sessions.
  configureProviderSessions(deps.oidc, logger);
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.set('views', path.join(ROOT_DIR, 'views'));
  app.set('view engine', 'ejs');
  // Compiled templates are kept except while developing (Express caches them only in production by default).
  app.set('view cache', config.env !== 'development');
  app.locals.appName = 'Identity Portal';

  // The connected apps' origins, for form-action below (a sign-in form ends in a redirect to the app).
  app.use(async (_req, res, next) => {
    res.locals.appOrigins = await appOrigins(config.siteCacheSeconds * 1000);
    next();
  });
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: true,
        directives: {
          'default-src': ["'self'"],
          'script-src': ["'self'"],
          'style-src': ["'self'"],
          'img-src': ["'self'", 'data:'],
          'form-action': ["'self'", (_req, res) => ((res as express.Response).locals.appOrigins as string[]).join(' ')],
          'frame-ancestors': ["'none'"],
          'upgrade-insecure-requests': config.isProduction ? [] : null,
        },
      },
      strictTransportSecurity: config.isProduction,
    }),
  );
  app.use(
    pinoHttp({
      logger,
      genReqId: (req, res) => {
        const id = crypto.randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      // Never log cookies, bearer tokens or bodies.
      serializers: {
        req: (req) => ({ id: req.id, method: req.method, url: String(req.url).split('?')[0] }),
        res: (res) => ({ statusCode: res.statusCode }),
      },
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' },
    }),
  );
  app.use(healthRouter());
  app.use(localise());
  // Static files only under their own paths: mounted at / the static handler would stat the disk for
  // every page address first (a failed stat per request, a few percent of a page's cost).
  const assets = express.static(path.join(ROOT_DIR, 'public'), {
    index: false,
    maxAge: config.isProduction ? '1h' : 0,
  });
  const ASSET_PATH = /^\/(?:css|js)\/|^\/favicon\.(?:ico|svg)$/;
  app.get(PASSKEY_BROWSER_SCRIPT, passkeyBrowserScript(config.isProduction ? '1h' : 0));
  app.use((req, res, next) => (ASSET_PATH.test(req.path) ? assets(req, res, next) : next()));
  // The proof-of-work widget (from node_modules/altcha) and its challenges.
  app.use(botCheckRouter(deps.botCheck, { cacheSeconds: config.isProduction ? 3600 : 0 }));

  // The OpenID Connect provider parses its own requests: before the body parsers, sessions and CSRF. Its
  // logout confirmation alone reads the portal session, to end the site sign-in with the provider's.
  const session = sessionMiddleware(config, db.connection);
  app.use(`${OIDC_MOUNT}/session/end`, session);
  app.use(OIDC_MOUNT, noStore, oidcProviderHandler(deps.oidc, config.oidc.issuer));

  // Machines: bearer tokens, JSON bodies, no cookies and no CSRF.
  app.use(['/api', '/scim/v2'], noStore);
  app.use('/api', express.json({ limit: BODY_LIMITS.json, strict: true }), apiRouter(deps));
  app.use(
    '/scim/v2',
    express.json({ limit: BODY_LIMITS.json, type: ['application/json', 'application/scim+json'] }),
    scimRouter(deps),
  );

  // People: forms, sessions in the database, CSRF tokens.
  app.use(express.urlencoded({ extended: false, limit: BODY_LIMITS.form, parameterLimit: 100 }));
  app.use(express.json({ limit: BODY_LIMITS.form }));
  app.set('session cookie', sessionCookieName(config.isProduction));
  app.use(session);
  app.use(passport.initialize());
  app.use(loadSessionUsers(config.session.absoluteMs));
  app.use(noStoreForPrivatePages());
  const csrf = csrfMiddleware(config);
  app.use(cookieParser());
  csrf.install(app);
  app.use(csrf.locals);
  // Signing in during a deletion's grace period cancels it, by whatever method (src/signin/areas.ts).
  onSignIn(app, async (user, origin) =>
    (await cancelDeletionOnSignIn(user, origin, deps.now())) ? 'deletionCancelled' : null,
  );
  app.use(adminRouter(deps));
  app.use(siteRouter(deps));

  app.use((_req, res, next) =>
    next(new NotFoundError(res.locals.t ? res.locals.t('error.nothingHere') : MSG.nothingHere)),
  );
  app.use(errorWriter({ isDevelopment: config.env === 'development' }));
  return app;
}
