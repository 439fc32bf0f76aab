/**
 * Reads and validates the environment once. Every setting the portal honours is listed here with its
 * default and unit; the rest of the code receives the frozen result and never reads process.env.
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { z } from 'zod';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Days the sign-in history is kept when LOGIN_HISTORY_DAYS is not set (also the model's fallback). */
export const DEFAULT_LOGIN_HISTORY_DAYS = 180;

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  /** TCP port of the HTTP server. */
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Interface to listen on. Loopback by default; production behind a load balancer sets 0.0.0.0. */
  HOST: z.string().min(1).default('127.0.0.1'),
  /** A real MongoDB (replica set, Atlas). Unset: the embedded development engine, kept in DATA_DIR/db. */
  MONGODB_URI: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://')
    .optional(),
  /** Where the embedded database and the generated session secret live. */
  DATA_DIR: z.string().min(1).default('./data'),
  /** Signs session cookies. Required in production; otherwise generated once and kept in DATA_DIR. */
  SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** Creates this internal administrator at start when no user has that username yet. */
  ADMIN_USERNAME: z.string().optional(),
  ADMIN_PASSWORD: z.string().optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  /** Number of proxy hops to trust for X-Forwarded-* (0: none). Set it behind a load balancer. */
  TRUST_PROXY: z.coerce.number().int().min(0).max(10).default(0),
  /** Minutes without a request after which a session ends. */
  SESSION_IDLE_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(30),
  /** Hours after sign-in after which a session ends whatever the activity. */
  SESSION_ABSOLUTE_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(12),
  /** Days a site session lasts when "Keep me signed in" was ticked (its idle and absolute limit, and the cookie's). */
  KEEP_SIGNED_IN_DAYS: z.coerce.number().int().min(1).max(400).default(30),
  /** Days a device remembered at the second-factor step skips the code (its cookie and its record). */
  REMEMBER_DEVICE_DAYS: z.coerce.number().int().min(1).max(400).default(30),
  /** Consecutive failed logins per username+IP before that pair is locked out for LOGIN_LOCK_MINUTES. */
  LOGIN_MAX_FAILS_PER_USER_IP: z.coerce.number().int().min(1).default(5),
  /** Failed logins per IP per day before the IP is locked out for a day. */
  LOGIN_MAX_FAILS_PER_IP: z.coerce.number().int().min(1).default(100),
  LOGIN_LOCK_MINUTES: z.coerce.number().int().min(1).default(15),
  /** Registration attempts per IP (conflicts and refusals; successes are given back) per window. */
  REGISTRATION_MAX_FAILS_PER_IP: z.coerce.number().int().min(1).default(10),
  /** The registration window and lock-out, in minutes. */
  REGISTRATION_WINDOW_MINUTES: z.coerce.number().int().min(1).default(60),
  /** How often the bulk ingest worker looks for jobs ready to process, in milliseconds. */
  INGEST_POLL_MS: z.coerce.number().int().min(50).max(600_000).default(2000),
  /** How long a worker owns an ingest job without renewing its lease; after it, another may take over. */
  INGEST_LEASE_SECONDS: z.coerce.number().int().min(5).max(3600).default(60),
  /**
   * Rows per batch the worker creates users for (one seat update and one insertMany each). 250, not more:
   * each of a batch's database commands runs whole in the engine, and at 1,000 rows they held requests
   * behind them for 60-110 ms (sign-in page p99 during a job 3.6-4.4 x idle; at 250: 1.1-2 x, same rows/s).
   */
  INGEST_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(250),
  /** Largest CSV upload accepted by PUT /api/v1/jobs/ingest/:id/batches, in megabytes (Bulk API 2.0: 150). */
  INGEST_MAX_UPLOAD_MB: z.coerce.number().min(0.001).max(1024).default(150),
  /** Heap cap of the ingest worker's thread, in megabytes (its old generation); bounds a job's memory. */
  INGEST_THREAD_HEAP_MB: z.coerce.number().int().min(64).max(8192).default(192),
  /** Days before a license's forecast run-out date that the administrators who manage licenses are mailed (once per crossing). */
  SEAT_WARNING_DAYS: z.coerce.number().int().min(1).max(365).default(14),
  /** Public base URL used in links printed to the log (setup link) and in every mail. */
  PUBLIC_URL: z.string().url().optional(),
  /** SMTP server for outgoing mail (smtp://user:pass@host:587, smtps://...). Unset: mail goes to the outbox at /admin/outbox. */
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\/[^\s]+$/, 'must start with smtp:// or smtps://')
    .optional(),
  /** The From of every mail. */
  MAIL_FROM: z.string().min(3).max(300).default('Identity Portal <no-reply@localhost>'),
  /** How often the mail worker looks for messages due, in milliseconds. */
  MAIL_POLL_MS: z.coerce.number().int().min(50).max(600_000).default(1000),
  /**
   * Opens the mail outbox (/admin/outbox) in production. Off by default: there, mail should leave by
   * SMTP_URL. The outbox masks link tokens wherever it runs.
   */
  MAIL_OUTBOX_IN_PRODUCTION: z.enum(['true', 'false', '1', '0']).default('false'),
  /** Delivery attempts of one message before it is marked failed (backoff doubles from 30 s, capped at 1 h). */
  MAIL_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(8),
  /** Days a new API token lasts unless its creator chooses fewer (API tokens page). */
  API_TOKEN_DEFAULT_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  /** The longest an API token may last, in days; also the expiry given to tokens made before expiries. */
  API_TOKEN_MAX_DAYS: z.coerce.number().int().min(1).max(3650).default(365),
  /** Minutes a password reset link stays valid. */
  RESET_TOKEN_MINUTES: z.coerce
    .number()
    .int()
    .min(5)
    .max(24 * 60)
    .default(60),
  /** Hours an invitation (set-password) link stays valid. */
  INVITE_TOKEN_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(72),
  /** Hours an email verification or email change link stays valid. */
  VERIFY_TOKEN_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(48),
  /** Reset or verification mails asked for one address per hour before further requests are refused. */
  RECOVERY_MAX_PER_ADDRESS: z.coerce.number().int().min(1).max(1000).default(5),
  /** Reset or verification mails asked for from one IP per hour. */
  RECOVERY_MAX_PER_IP: z.coerce.number().int().min(1).max(100_000).default(30),
  /** Seconds a site read from the database is reused; other instances see a site change after at most this. 0: off. */
  SITE_CACHE_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
  /** Days the sign-in history is kept (a TTL index). */
  LOGIN_HISTORY_DAYS: z.coerce.number().int().min(1).max(3650).default(DEFAULT_LOGIN_HISTORY_DAYS),
  /** Internal users must set up two-factor sign-in before the admin area opens. Default: on in production. */
  ADMIN_MFA_REQUIRED: z.enum(['true', 'false', '1', '0']).optional(),
  /** Signs proof-of-work challenges (32+ characters). Unset: derived from SESSION_SECRET, so every instance agrees. */
  POW_HMAC_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  /** Proof-of-work cost: the largest number a challenge may hide; a browser tries about half of it (SHA-256 each). */
  POW_MAX_NUMBER: z.coerce.number().int().min(100).max(10_000_000).default(100_000),
  /** Minutes a challenge may be solved and sent in; a used one is remembered that long (TTL index). */
  POW_EXPIRE_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(20),
  /** Failed sign-ins (per account and IP, or per IP) after which sign-in asks for a proof of work. */
  POW_SIGNIN_AFTER_FAILS: z.coerce.number().int().min(0).max(1000).default(2),
  /** Reset requests per address or IP in the recovery window after which "Forgot password" asks for one. */
  POW_RECOVERY_AFTER: z.coerce.number().int().min(0).max(1000).default(2),
  /** Without JavaScript: seconds between opening a form and sending it (the slower path instead of the work). */
  POW_NOSCRIPT_WAIT_SECONDS: z.coerce.number().int().min(1).max(600).default(20),
  /** Days between asking for an account's deletion and its erasure; signing in meanwhile cancels it. */
  DELETION_GRACE_DAYS: z.coerce.number().int().min(0).max(365).default(14),
  /** How often each instance looks for accounts due for erasure, in minutes. */
  DELETION_SWEEP_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(60),
  /** 32 bytes, base64 or hex: encrypts external identity providers' client secrets; unset: derived from the session secret. */
  IDP_SECRET_KEY: z
    .string()
    .regex(/^(?:[0-9a-fA-F]{64}|[A-Za-z0-9+/_-]{43}=?)$/, 'must be 32 bytes as 64 hex digits or base64')
    .optional(),
  /**
   * Encrypts the OpenID Connect provider's signing keys in the database (AES-256-GCM, key derived by
   * HKDF). Unset: derived from the session secret (then changing that secret loses the keys: set this in production).
   */
  OIDC_KEY_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** Days a rotated-out signing key stays in the JWKS, so tokens it signed still verify. */
  OIDC_KEY_GRACE_DAYS: z.coerce.number().int().min(1).max(365).default(7),
  /** Seconds an access token issued to a connected app lasts. */
  OIDC_ACCESS_TOKEN_SECONDS: z.coerce.number().int().min(60).max(86_400).default(600),
  /** Days a refresh token (rotated at each use) lasts. */
  OIDC_REFRESH_TOKEN_DAYS: z.coerce.number().int().min(1).max(365).default(14),
  /**
   * Lets back-channel logout notices reach loopback and private addresses (apps inside the company's
   * network). Off: the provider's guard refuses them, so an app's URI cannot aim the portal at its own network.
   */
  OIDC_BACKCHANNEL_PRIVATE_NETWORK: z.enum(['true', 'false', '1', '0']).default('false'),
});

export type Config = Readonly<{
  env: 'development' | 'production' | 'test';
  isProduction: boolean;
  port: number;
  host: string;
  mongoUri: string | undefined;
  dataDir: string;
  sessionSecret: string;
  admin: { username: string; password: string } | undefined;
  logLevel: (typeof LOG_LEVELS)[number];
  trustProxy: number;
  session: { idleMs: number; absoluteMs: number; keepSignedInMs: number; rememberDeviceMs: number };
  throttle: { maxFailsPerUserIp: number; maxFailsPerIp: number; lockSeconds: number };
  registrationThrottle: { maxFailsPerIp: number; windowSeconds: number };
  publicUrl: string;
  ingest: IngestSettings;
  mail: MailSettings;
  tokens: { resetMs: number; inviteMs: number; verifyMs: number };
  apiTokens: { defaultDays: number; maxDays: number };
  recoveryThrottle: { maxPerAddress: number; maxPerIp: number; windowSeconds: number };
  loginHistoryDays: number;
  /** SEAT_WARNING_DAYS: the seat meter's warning threshold (qualification/seat-forecast.ts). */
  seatWarningDays: number;
  siteCacheSeconds: number;
  adminMfaRequired: boolean;
  pow: PowSettings;
  deletion: { graceMs: number; sweepMs: number };
  /** Encrypts external identity providers' client secrets (AES-256-GCM). */
  idpSecretKey: Buffer;
  oidc: OidcSettings;
}>;

/** Proof of work (src/bot-check): cost, lifetimes, when sign-in and recovery ask for it. */
export interface PowSettings {
  /** POW_HMAC_KEY; null: derived from the session secret (secretFor). */
  hmacKey: string | null;
  maxNumber: number;
  expireMs: number;
  signInAfterFails: number;
  recoveryAfter: number;
  noscriptWaitMs: number;
}

/** The OpenID Connect provider under /oidc: its issuer, key encryption and token lifetimes. */
export interface OidcSettings {
  /** PUBLIC_URL + /oidc: what apps discover and what every token's `iss` says. */
  issuer: string;
  keySecret: string;
  keyGraceMs: number;
  accessTokenSeconds: number;
  refreshTokenSeconds: number;
  /** Back-channel logout may POST to loopback and private addresses (OIDC_BACKCHANNEL_PRIVATE_NETWORK). */
  backchannelPrivateNetwork: boolean;
}

export interface MailSettings {
  smtpUrl: string | undefined;
  from: string;
  pollMs: number;
  maxAttempts: number;
  leaseMs: number;
  /** Whether /admin/outbox opens: always outside production, in production only with MAIL_OUTBOX_IN_PRODUCTION. */
  outboxOpen: boolean;
}

export interface IngestSettings {
  pollMs: number;
  leaseMs: number;
  batchSize: number;
  maxUploadBytes: number;
  threadHeapMb: number;
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

/** Keeps a development session secret stable across restarts so sign-ins survive them. */
function persistedSecret(dataDir: string): string {
  const file = path.join(dataDir, 'session-secret');
  try {
    const existing = fs.readFileSync(file, 'utf8').trim();
    if (existing.length >= 32) return existing;
  } catch {
    /* not created yet */
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const secret = crypto.randomBytes(48).toString('base64url');
  fs.writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

/**
 * The key of external providers' client secrets: IDP_SECRET_KEY, or one derived from the session secret
 * (HKDF), so a development portal needs nothing set; changing either makes stored secrets unreadable.
 */
function idpSecretKey(value: string | undefined, sessionSecret: string): Buffer {
  if (value) return /^[0-9a-fA-F]{64}$/.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
  return Buffer.from(crypto.hkdfSync('sha256', sessionSecret, 'identity-portal', 'idp-client-secrets', 32));
}

/** Why this PUBLIC_URL cannot be used (a path prefix, a query or a fragment), or null. */
function publicUrlProblem(value: string): string | null {
  const url = new URL(value);
  if (url.pathname.replace(/\/+$/, '') === '' && !url.search && !url.hash) return null;
  return `must be the portal's origin alone, like ${url.origin} (got ${value}): the portal does not run under a path prefix such as /portal; give it a host name of its own`;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  const isProduction = e.NODE_ENV === 'production';
  if (isProduction && !e.SESSION_SECRET) problems.push('SESSION_SECRET: required when NODE_ENV=production');
  if (Boolean(e.ADMIN_USERNAME) !== Boolean(e.ADMIN_PASSWORD)) {
    problems.push('ADMIN_USERNAME and ADMIN_PASSWORD: set both or neither');
  }
  // The portal's pages, redirects, cookies and OpenID endpoints all live at the root of their host: under
  // a path prefix the issuer, the providers' redirect URIs and mailed links would point where nothing answers.
  if (e.PUBLIC_URL && publicUrlProblem(e.PUBLIC_URL)) problems.push(`PUBLIC_URL: ${publicUrlProblem(e.PUBLIC_URL)}`);
  if (problems.length) throw new ConfigError(problems);
  return configFrom(e, e.SESSION_SECRET ?? persistedSecret(path.resolve(e.DATA_DIR)));
}

type Env = z.infer<typeof envSchema>;

/** The configuration from parsed, checked variables: the arithmetic of every setting, written once. */
function configFrom(e: Env, sessionSecret: string): Config {
  const isProduction = e.NODE_ENV === 'production';
  const dataDir = path.resolve(e.DATA_DIR);
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  return Object.freeze({
    env: e.NODE_ENV,
    isProduction,
    port: e.PORT,
    host: e.HOST,
    mongoUri: e.MONGODB_URI,
    dataDir,
    sessionSecret,
    admin:
      e.ADMIN_USERNAME && e.ADMIN_PASSWORD ? { username: e.ADMIN_USERNAME, password: e.ADMIN_PASSWORD } : undefined,
    logLevel: e.LOG_LEVEL,
    trustProxy: e.TRUST_PROXY,
    session: {
      idleMs: e.SESSION_IDLE_MINUTES * 60_000,
      absoluteMs: e.SESSION_ABSOLUTE_HOURS * 3_600_000,
      keepSignedInMs: e.KEEP_SIGNED_IN_DAYS * 86_400_000,
      rememberDeviceMs: e.REMEMBER_DEVICE_DAYS * 86_400_000,
    },
    throttle: {
      maxFailsPerUserIp: e.LOGIN_MAX_FAILS_PER_USER_IP,
      maxFailsPerIp: e.LOGIN_MAX_FAILS_PER_IP,
      lockSeconds: e.LOGIN_LOCK_MINUTES * 60,
    },
    registrationThrottle: {
      maxFailsPerIp: e.REGISTRATION_MAX_FAILS_PER_IP,
      windowSeconds: e.REGISTRATION_WINDOW_MINUTES * 60,
    },
    publicUrl,
    ingest: {
      pollMs: e.INGEST_POLL_MS,
      leaseMs: e.INGEST_LEASE_SECONDS * 1000,
      batchSize: e.INGEST_BATCH_SIZE,
      maxUploadBytes: Math.round(e.INGEST_MAX_UPLOAD_MB * 1024 * 1024),
      threadHeapMb: e.INGEST_THREAD_HEAP_MB,
    },
    mail: {
      smtpUrl: e.SMTP_URL,
      from: e.MAIL_FROM,
      pollMs: e.MAIL_POLL_MS,
      maxAttempts: e.MAIL_MAX_ATTEMPTS,
      leaseMs: 60_000,
      outboxOpen: !isProduction || e.MAIL_OUTBOX_IN_PRODUCTION === 'true' || e.MAIL_OUTBOX_IN_PRODUCTION === '1',
    },
    apiTokens: { defaultDays: Math.min(e.API_TOKEN_DEFAULT_DAYS, e.API_TOKEN_MAX_DAYS), maxDays: e.API_TOKEN_MAX_DAYS },
    tokens: {
      resetMs: e.RESET_TOKEN_MINUTES * 60_000,
      inviteMs: e.INVITE_TOKEN_HOURS * 3_600_000,
      verifyMs: e.VERIFY_TOKEN_HOURS * 3_600_000,
    },
    recoveryThrottle: {
      maxPerAddress: e.RECOVERY_MAX_PER_ADDRESS,
      maxPerIp: e.RECOVERY_MAX_PER_IP,
      windowSeconds: 3600,
    },
    loginHistoryDays: e.LOGIN_HISTORY_DAYS,
    seatWarningDays: e.SEAT_WARNING_DAYS,
    siteCacheSeconds: e.SITE_CACHE_SECONDS,
    adminMfaRequired:
      e.ADMIN_MFA_REQUIRED === undefined
        ? isProduction
        : e.ADMIN_MFA_REQUIRED === 'true' || e.ADMIN_MFA_REQUIRED === '1',
    pow: {
      hmacKey: e.POW_HMAC_KEY ?? null,
      maxNumber: e.POW_MAX_NUMBER,
      expireMs: e.POW_EXPIRE_MINUTES * 60_000,
      signInAfterFails: e.POW_SIGNIN_AFTER_FAILS,
      recoveryAfter: e.POW_RECOVERY_AFTER,
      noscriptWaitMs: e.POW_NOSCRIPT_WAIT_SECONDS * 1000,
    },
    deletion: {
      graceMs: e.DELETION_GRACE_DAYS * 86_400_000,
      sweepMs: e.DELETION_SWEEP_MINUTES * 60_000,
    },
    idpSecretKey: idpSecretKey(e.IDP_SECRET_KEY, sessionSecret),
    oidc: {
      // The provider is mounted at /oidc (src/oidc/mount.ts).
      issuer: `${publicUrl}/oidc`,
      // Unset, the session secret stands in, so a development portal needs nothing more to set up.
      keySecret: e.OIDC_KEY_SECRET ?? `oidc-keys:${sessionSecret}`,
      keyGraceMs: e.OIDC_KEY_GRACE_DAYS * 86_400_000,
      accessTokenSeconds: e.OIDC_ACCESS_TOKEN_SECONDS,
      refreshTokenSeconds: e.OIDC_REFRESH_TOKEN_DAYS * 86_400,
      backchannelPrivateNetwork:
        e.OIDC_BACKCHANNEL_PRIVATE_NETWORK === 'true' || e.OIDC_BACKCHANNEL_PRIVATE_NETWORK === '1',
    },
  });
}

/**
 * Every setting at its default, without touching the disk (no session secret): what a module reads before
 * createApp passes it the real configuration (tests that call a rule directly). Defaults live only here.
 */
export const DEFAULTS: Config = configFrom(envSchema.parse({}), '');

/**
 * A key of its own per purpose, derived from the session secret rather than reused, so a challenge
 * signature or an audit pseudonym can never pass for a cookie's signature; stable across instances and
 * restarts (they share the secret). POW_HMAC_KEY, when set, is the proof-of-work key instead.
 */
export function secretFor(
  config: Pick<Config, 'sessionSecret' | 'pow'>,
  purpose: 'proof-of-work' | 'audit-pseudonym',
): string {
  if (purpose === 'proof-of-work' && config.pow.hmacKey) return config.pow.hmacKey;
  return crypto.createHmac('sha256', config.sessionSecret).update(purpose).digest('base64url');
}
