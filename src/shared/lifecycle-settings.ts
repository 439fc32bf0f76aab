import { DEFAULTS, type Config } from '../config';

/**
 * What the account lifecycle services need from the configuration: the public URL the links in mails
 * start with, how long each kind of link lives, and the session and API token limits. createApp (and the
 * ingest thread) pass the configuration in once at start; until then a rule reads the defaults of
 * src/config.ts, the only place defaults are written.
 */
export interface LifecycleSettings {
  publicUrl: string;
  tokens: { resetMs: number; inviteMs: number; verifyMs: number };
  /** Days a sign-in history event is kept. */
  loginHistoryDays: number;
  /** The session idle timeout: a session's last request is its expiry minus this. */
  sessionIdleMs: number;
  /** API tokens: the expiry a new one gets by default, and the longest allowed, in days. */
  apiTokens: { defaultDays: number; maxDays: number };
}

/** The lifecycle's part of a configuration. */
export function lifecycleOf(
  config: Pick<Config, 'publicUrl' | 'tokens' | 'loginHistoryDays' | 'session' | 'apiTokens'>,
): LifecycleSettings {
  return {
    publicUrl: config.publicUrl.replace(/\/+$/, ''),
    tokens: { ...config.tokens },
    loginHistoryDays: config.loginHistoryDays,
    sessionIdleMs: config.session.idleMs,
    apiTokens: { ...config.apiTokens },
  };
}

let current: LifecycleSettings = lifecycleOf(DEFAULTS);

export function setLifecycleSettings(settings: LifecycleSettings): void {
  current = {
    ...settings,
    publicUrl: settings.publicUrl.replace(/\/+$/, ''),
    tokens: { ...settings.tokens },
    apiTokens: { ...settings.apiTokens },
  };
}

export function lifecycleSettings(): LifecycleSettings {
  return current;
}
