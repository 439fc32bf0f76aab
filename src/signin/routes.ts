/** The HTTP surface of signin/: its routers and page helpers, for the app, the admin shell and other routes (never for the rules: they import index.ts). */
export { adminAuthRouter } from './admin-routes';
export {
  type Area,
  type SignInListener,
  type SignInNotice,
  loadSessionUsers,
  onSignIn,
  originOf,
  safeReturnTo,
  signIn,
  signOut,
  takeSignInNotice,
} from './session-middleware';
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
