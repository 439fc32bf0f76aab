import { DEFAULT_LOGIN_HISTORY_DAYS } from '../config';

/**
 * What the account lifecycle services need from the configuration: the public URL the links in mails
 * start with, and how long each kind of link lives. Set once at start (createApp, the ingest thread);
 * the defaults are those of src/config.ts.
 */
export interface LifecycleSettings {
  publicUrl: string;
  tokens: { resetMs: number; inviteMs: number; verifyMs: number };
  /** Days a sign-in history event is kept. */
  loginHistoryDays?: number;
  /** The session idle timeout: a session's last request is its expiry minus this. */
  sessionIdleMs?: number;
  /** API tokens: the expiry a new one gets by default, and the longest allowed, in days. */
  apiTokens?: { defaultDays: number; maxDays: number };
}

let current: LifecycleSettings = {
  publicUrl: 'http://localhost:3000',
  tokens: { resetMs: 60 * 60_000, inviteMs: 72 * 3_600_000, verifyMs: 48 * 3_600_000 },
  loginHistoryDays: DEFAULT_LOGIN_HISTORY_DAYS,
  sessionIdleMs: 30 * 60_000,
  apiTokens: { defaultDays: 90, maxDays: 365 },
};

export function setLifecycleSettings(settings: LifecycleSettings): void {
  current = { publicUrl: settings.publicUrl.replace(/\/+$/, ''), tokens: { ...settings.tokens }, loginHistoryDays: settings.loginHistoryDays ?? current.loginHistoryDays, sessionIdleMs: settings.sessionIdleMs ?? current.sessionIdleMs, apiTokens: settings.apiTokens ?? current.apiTokens };
}

export function lifecycleSettings(): LifecycleSettings {
  return current;
}
