/** The surface of account/: what other features and the app may import from it. */
export { inviteNewUser, resendInvitation, sendResetLinkAsAdmin } from './invitations';
export { adminUserSessions, endAllSessionsAsAdmin } from './sessions';
export { revokeOutstandingLinks } from './tokens';
export { resendVerificationAsAdmin, sendVerificationLink } from './verification';
export { inviteUsersInBulk } from './invitations';
export { checkRegistrationInvitation, consumeRegistrationInvitation, inviteToRegister, openRegistrationInvitations, revokeRegistrationInvitation, type InvitationProblem, type RegistrationInvitationInput } from './invitations';
export { FEW_RECOVERY_CODES, sendSecurityNotice, whereOf, type NoticeWhere } from './security-notices';
