/** The surface of roles/: what other features and the app may import from it. */
export { addToGroup, findGroupCandidates, listGroups, removeFromGroup, saveGroupName } from './delegated-admin';
export {
  assignPermissionSet,
  createPermissionSet,
  deletePermissionSet,
  findPermissionSet,
  listPermissionSets,
  removePermissionSet,
  updatePermissionSet,
  userPermissionSets,
} from './permission-sets';
export {
  cloneProfile,
  createProfile,
  defaultProfileId,
  deleteProfile,
  findProfile,
  listProfiles,
  profileCatalog,
  profilesOfType,
  updateProfile,
} from './profiles';
