/**
 * openid-client 6 is ESM-only. The portal is compiled to CommonJS: Node 20.19+ loads an ES module through
 * require() (no top-level await in it), and jest turns it and its dependencies (oauth4webapi, jose) into
 * CommonJS (jest.config.js). Its types are read as the ES module they are.
 */
import type * as OpenIdClient from 'openid-client' with { 'resolution-mode': 'import' };

export type { OpenIdClient };
export const openid: typeof OpenIdClient = require('openid-client');
