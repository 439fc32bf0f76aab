import type { Logger } from 'pino';
import type Provider from 'oidc-provider';
import type { Config } from '../config';
import type { Database } from '../data/connection';
import type { BotCheck } from '../bot-check';
import type { AccountThrottle, LoginThrottle, RegistrationThrottle, PasswordRecheckThrottle } from '../signin';

/** What the routers need from the outside; built once in app.ts. */
export interface AppDeps {
  config: Config;
  db: Database;
  logger: Logger;
  /** One sign-in throttle for the sites and the admin area. */
  loginThrottle: LoginThrottle;
  registrationThrottle: RegistrationThrottle;
  /** Re-checks of the current password behind a session, per account. */
  recheckThrottle: PasswordRecheckThrottle;
  /** Second-factor codes at sign-in, per account. */
  secondFactorThrottle: AccountThrottle;
  /** Proof of work: registration always, sign-in and recovery after failures. */
  botCheck: BotCheck;
  /** The clock of expiries and grace periods (tests move it instead of waiting). */
  now: () => Date;
  /** The OpenID Connect provider, ready once its signing keys are read from the database. */
  oidc: Promise<Provider>;
}
