/** The surface of oidc/ (the OpenID Connect provider and connected apps): what other features may import. */
export {
  type AppInput,
  createConnectedApp,
  deleteConnectedApp,
  findConnectedApp,
  listConnectedApps,
  rotateConnectedAppSecret,
  updateConnectedApp,
} from './connected-apps';
export { APP_SCOPES, type ConnectedAppDoc } from './connected-app.model';
export { revokeGrantsOfAccount } from './grants';
export { configureProviderSessions, endProviderSessionsOf } from './sessions';
export { loadSigningKeys, rotateSigningKeys } from './signing-keys';
export { appOrigins } from './app-origins';
