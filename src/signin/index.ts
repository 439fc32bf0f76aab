/** The surface of signin/: what other features and the app may import from it. */
export { recordFailedLogin, recordLogin, verifyCredentials } from './authentication';
export { type PasswordRecheckThrottle, recheckPassword } from './password-recheck';
export { hashPassword, passwordProblem, warmPasswordPolicy } from './passwords';
export { type RequestThrottle, createRequestThrottle } from './recovery-throttle';
export {
  type AccountThrottle,
  type LoginThrottle,
  type RegistrationThrottle,
  createLoginThrottle,
  createPasswordRecheckThrottle,
  createRegistrationThrottle,
  createSecondFactorThrottle,
} from './throttle';
export { mfaStatus, resetMfaAsAdmin, useSecondFactor } from './two-factor';
export {
  type DeviceSettings,
  deviceSettings,
  forgetAllDevices,
  forgetDevice,
  rememberedDevicesOf,
} from './remembered-devices';
