/** SCIM 2.0 under /scim/v2: the router lives in ./scim/ (discovery, users, filters, resources). */
export { scimRouter } from './scim/index';
