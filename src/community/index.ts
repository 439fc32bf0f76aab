/** The surface of community/: community pages (authored per site, opened by a license or profile) and "ask to become a community member". */
export {
  authoringChoices,
  createCommunityPage,
  deleteCommunityPage,
  listCommunityPages,
  openCommunityPage,
  pagesOpenTo,
  parseLinkLines,
  updateCommunityPage,
  viewCommunityPage,
  type CommunityPageInput,
  type PageLink,
} from './community-pages';
export { textBlocks, type TextBlock } from './community-text';
export { JOIN_REASON_MAX, askToJoin, mayAskToJoin, openJoinRequestOf } from './join-requests';
