/** The provider's mount point; the issuer is PUBLIC_URL + this. */
export const OIDC_MOUNT = '/oidc';
