/**
 * SCIM's 400s with a scimType (RFC 7644 3.12). They are domain validation errors, so the one error
 * writer maps them; scimErrors keeps the scimType they carry.
 */
import { ValidationError } from '../shared/errors';

export type ScimType = 'invalidFilter' | 'invalidPath' | 'invalidSyntax' | 'invalidValue' | 'mutability' | 'noTarget';

export class ScimRequestError extends ValidationError {
  constructor(
    message: string,
    public readonly scimType: ScimType,
  ) {
    super(message);
  }
}

/** Deepest nesting a SCIM body needs is about four (extension > contact > field); 32 leaves room. */
export const MAX_BODY_DEPTH = 32;

/**
 * Refuses bodies nested deeper than MAX_BODY_DEPTH, walking without recursion, before anything that
 * recurses (cloning, PATCH, serialising an audit entry) could overflow the stack on them.
 */
export function assertShallow(body: unknown): void {
  const stack: [unknown, number][] = [[body, 0]];
  while (stack.length) {
    const [value, depth] = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_BODY_DEPTH) {
      throw new ScimRequestError(
        `The request body is nested more than ${MAX_BODY_DEPTH} levels deep; a SCIM resource or PATCH needs only a few.`,
        'invalidSyntax',
      );
    }
    for (const child of Object.values(value)) stack.push([child, depth + 1]);
  }
}
