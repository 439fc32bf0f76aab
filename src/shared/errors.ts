/**
 * Typed domain errors. Services throw these; one HTTP error writer (src/http/error-writer.ts) maps each
 * kind to a status and renders a page for people or JSON for the API. `expose` marks messages that are
 * safe to show to the client (every 4xx); anything else is an internal error and is logged, not shown.
 */
export type FieldErrors = Record<string, string>;

export abstract class DomainError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
  readonly expose = true;
  /** A catalogue key (locales/*.json) the error writer says the message in, on pages in the reader's language. */
  readonly messageKey?: string;
}

/** Input that breaks a rule; `fields` names each offending field with what to do about it. */
export class ValidationError extends DomainError {
  readonly status = 422;
  readonly code = 'validation_failed';
  constructor(
    message: string,
    public readonly fields: FieldErrors = {},
  ) {
    super(message);
  }
}

/** Something already exists or the state does not allow the change (taken username, no seat left). */
export class ConflictError extends DomainError {
  readonly status = 409;
  readonly code: string;
  constructor(
    message: string,
    public readonly fields: FieldErrors = {},
    code = 'conflict',
  ) {
    super(message);
    this.code = code;
  }
}

/** The actor lacks a permission; `permission` names it so the message can tell whom to ask. */
export class ForbiddenError extends DomainError {
  readonly status = 403;
  readonly code = 'forbidden';
  constructor(
    message: string,
    public readonly permission?: string,
  ) {
    super(message);
  }
}

export class NotFoundError extends DomainError {
  readonly status = 404;
  readonly code = 'not_found';
}

/** Failed sign-in: one message whatever the reason, so it never tells which usernames exist. */
export class AuthenticationError extends DomainError {
  readonly status = 401;
  readonly code = 'unauthorized';
  constructor(message = 'The username or password is incorrect.') {
    super(message);
  }
}

export class TooManyRequestsError extends DomainError {
  readonly status = 429;
  readonly code = 'too_many_requests';
  constructor(
    message: string,
    public readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** A request the server cannot read (malformed body, bad filter, invalid query value); `scimType` for SCIM. */
export class BadRequestError extends DomainError {
  readonly status = 400;
  readonly code: string;
  constructor(
    message: string,
    code = 'bad_request',
    public readonly scimType?: string,
  ) {
    super(message);
    this.code = code;
  }
}

/** A body over its size limit (form, JSON, or an ingest upload). */
export class PayloadTooLargeError extends DomainError {
  readonly status = 413;
  readonly code = 'payload_too_large';
  constructor(message = 'The request is too large.') {
    super(message);
  }
}

/** A body of a type the route does not read (an ingest upload that is not text/csv). */
export class UnsupportedMediaTypeError extends DomainError {
  readonly status = 415;
  readonly code = 'unsupported_media_type';
}

/** A state-changing form without a valid CSRF token: nothing is changed. */
export class CsrfError extends DomainError {
  readonly status = 403;
  readonly code = 'csrf_failed';
  constructor(message = 'Your form expired or was sent from elsewhere. Reload the page and try again.') {
    super(message);
  }
}

/** Something this service does not do: a method on an address (405) or a whole feature (501). */
export class NotSupportedError extends DomainError {
  readonly code: string;
  constructor(
    message: string,
    public readonly status: 405 | 501,
  ) {
    super(message);
    this.code = status === 405 ? 'method_not_allowed' : 'not_implemented';
  }
}

export function isDomainError(err: unknown): err is DomainError {
  return err instanceof DomainError;
}

/**
 * A link from a mail (reset, invitation, verification, email change) that cannot be used: used,
 * expired, forged, truncated, or for an account that can no longer use it. 410 when it was real once,
 * 404 when it never was; the message says what to do next.
 */
export class InvalidLinkError extends DomainError {
  readonly status: number;
  readonly code: string;
  constructor(reason: 'used' | 'expired' | 'invalid', message: string) {
    super(message);
    this.status = reason === 'invalid' ? 404 : 410;
    this.code = `link_${reason}`;
  }
}

/** The password was right but the site lets only users with a confirmed email address sign in. */
export class EmailUnverifiedError extends DomainError {
  readonly status = 403;
  readonly code = 'email_unverified';
  constructor(
    message = 'Confirm your email address before you log in: open the link we mailed you, or ask for a new one below.',
  ) {
    super(message);
  }
}

/**
 * A guest may not register here as they asked (the site's registration policy): closed, by invitation
 * only, an address or domain the site does not take. `messageKey` says what to do in the guest's
 * language; `fields` puts the same words beside the field to change (the email), when there is one.
 */
export class RegistrationRefusedError extends DomainError {
  readonly status = 403;
  readonly code: string;
  constructor(
    code: string,
    message: string,
    readonly messageKey: string,
    public readonly fields: FieldErrors = {},
  ) {
    super(message);
    this.code = code;
  }
}
