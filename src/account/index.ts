/** The surface of account/: what other features and the app may import from it. */
export {
  assertInvitable,
  INVITATION_SKIPS,
  inviteNewUser,
  resendInvitation,
  sendResetLinkAsAdmin,
} from './invitations';
export { adminUserSessions, endAllSessionsAsAdmin } from './sessions';
export { endAllUserSessions, findUserSessions } from './stored-sessions';
export { consumeToken, issueToken, peekToken, revokeOutstandingLinks } from './tokens';
export { assertMaySignIn, resendVerificationAsAdmin, sendVerificationLink } from './verification';
export { inviteUsersInBulk } from './invitations';
export {
  checkRegistrationInvitation,
  consumeRegistrationInvitation,
  inviteToRegister,
  openRegistrationInvitations,
  revokeRegistrationInvitation,
  type InvitationProblem,
  type RegistrationInvitationInput,
} from './invitations';
export { PROFILE_FIELDS } from './account';
export { FEW_RECOVERY_CODES, sendSecurityNotice, whereOf, type NoticeWhere } from './security-notices';
