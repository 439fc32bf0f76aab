/** The surface of sites/: what other features and the app may import from it. */
export { isSiteMember, mayOpenPage } from './site-access';
export { configureSiteCache, siteBySlug } from './site-cache';
export {
  DEFAULT_REGISTRATION_PROFILE,
  createSite,
  listSites,
  setPageAudience,
  setSiteMembers,
  siteChoices,
  updateSite,
} from './sites';
export {
  LOGO_MAX_BYTES,
  LOGO_TYPES,
  contrast,
  logoOf,
  removeLogo,
  setLogo,
  textColourOn,
  updateBranding,
  type BrandingInput,
} from './branding';
export { updateRegistrationPolicy, type RegistrationPolicyInput } from './registration-policy';
