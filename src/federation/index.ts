/** The surface of federation/ (external identity providers per site): what other features and the app may import. */
export { configureSecretBox } from './secret-box';
export {
  type ProviderInput,
  type ProviderView,
  addProvider,
  editProvider,
  enabledProviders,
  listProviders,
  providerForEdit,
  removeProvider,
} from './providers';
export { type PendingFlow, type ProviderClaims, beginFlow, callbackUrl, finishFlow } from './flow';
export {
  type FederatedOutcome,
  type LinkView,
  type PendingLink,
  checkMailedLink,
  confirmLinkByMail,
  mailLinkConfirmation,
  confirmPendingLink,
  linksOf,
  pendingLinkUser,
  removeOwnLink,
  resolveFederatedSignIn,
} from './links';
