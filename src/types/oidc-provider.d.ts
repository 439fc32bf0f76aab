/**
 * The part of oidc-provider 9 (ESM-only, no types of its own) that src/oidc/ uses. Declared as an
 * ambient module, TypeScript compiles `import Provider from 'oidc-provider'` to a require(), which
 * Node 20.19+ resolves to the ES module natively (and Jest through its transform).
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export type AdapterPayload = Record<string, unknown> & {
    grantId?: string;
    userCode?: string;
    uid?: string;
    consumed?: unknown;
  };
  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }
  export type AdapterConstructor = new (name: string) => Adapter;

  export interface InteractionDetails {
    uid: string;
    prompt: { name: string; reasons: string[]; details: Record<string, unknown> };
    params: Record<string, unknown> & { client_id?: string; scope?: string };
    session?: { accountId?: string; uid?: string };
    grantId?: string;
    lastSubmission?: Record<string, unknown>;
  }
  export interface GrantInstance {
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
    addResourceScope(resource: string, scope: string): void;
    save(): Promise<string>;
  }
  export interface GrantClass {
    new (opts: { accountId: string; clientId: string }): GrantInstance;
    find(id: string): Promise<GrantInstance | undefined>;
  }
  export interface SessionInstance {
    accountId?: string;
    authorizations?: Record<string, { sid?: string; grantId?: string; persistsLogout?: boolean }>;
    sidFor(clientId: string): string | undefined;
    destroy(): Promise<void>;
  }
  export interface SessionClass {
    adapter: Adapter;
    find(id: string): Promise<SessionInstance | undefined>;
  }
  export interface ClientInstance {
    clientId: string;
    backchannelLogoutUri?: string;
    /** POSTs a signed logout token (sub, sid when the app requires it, the back-channel event) to the app. */
    backchannelLogout(sub: string, sid: string | undefined): Promise<void>;
  }
  export interface ClientClass {
    find(id: string): Promise<ClientInstance | undefined>;
  }

  export default class Provider {
    constructor(issuer: string, configuration?: Record<string, unknown>);
    proxy: boolean;
    issuer: string;
    readonly Grant: GrantClass;
    readonly Session: SessionClass;
    readonly Client: ClientClass;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: Record<string, unknown>,
      opts?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>;
    interactionResult(
      req: IncomingMessage,
      res: ServerResponse,
      result: Record<string, unknown>,
      opts?: { mergeWithLastSubmission?: boolean },
    ): Promise<string>;
    on(event: string, listener: (...args: never[]) => void): this;
  }
  export const errors: Record<
    string,
    new (description?: string) => Error & { error: string; error_description?: string; status: number }
  >;
}
