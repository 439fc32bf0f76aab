/** The HTTP surface of signin/: its routers and page helpers, for the app, the admin shell and other routes (never for the rules: they import index.ts). */
export { adminAuthRouter } from './admin-routes';
export { type Area, loadSessionUsers, originOf, safeReturnTo, signIn, signOut } from './session-middleware';
export { authenticateLogin, signInFailures } from './login-middleware';
export { passport } from './passport';
export {
  type TwoFactorPages,
  codePage,
  codeSubmit,
  disableSubmit,
  enableSubmit,
  finishSubmit,
  holdForSecondFactor,
  managePage,
  pendingUser as pendingSecondFactor,
  regenerateSubmit,
  requireEnrolment,
  setupSubmit,
} from './two-factor-pages';
