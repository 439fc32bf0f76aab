/**
 * The two places a person signs in: a site (`/s/<slug>/`) or the admin area (`/admin`). One name for
 * sessions, sign-in, the login history and password links, so a third area is one edit here.
 */
export type Area = 'site' | 'admin';

export const AREAS: readonly Area[] = ['site', 'admin'];
