/** URLs of a site's pages, shared by the router, the views and the tests. */
export const sitePaths = (slug: string) => ({
  home: `/s/${slug}/`,
  register: `/s/${slug}/register`,
  terms: `/s/${slug}/terms`,
  termsAccept: `/s/${slug}/terms/accept`,
  login: `/s/${slug}/login`,
  loginCode: `/s/${slug}/login/code`,
  twoFactor: `/s/${slug}/account/two-factor`,
  logout: `/s/${slug}/logout`,
  account: `/s/${slug}/account`,
  accountPassword: `/s/${slug}/account/password`,
  forgot: `/s/${slug}/forgot`,
  reset: `/s/${slug}/reset`,
  welcome: `/s/${slug}/welcome`,
  verifyEmail: `/s/${slug}/verify-email`,
  verifyEmailResend: `/s/${slug}/verify-email/resend`,
  accountEmail: `/s/${slug}/account/email`,
  confirmEmail: `/s/${slug}/confirm-email`,
  accountSessionEnd: `/s/${slug}/account/sessions/end`,
  accountSessionsEndOthers: `/s/${slug}/account/sessions/end-others`,
});
export type SitePaths = ReturnType<typeof sitePaths>;
