/** The HTTP surface of admin/: its routers and page helpers, for the app, the admin shell and other routes (never for the rules: they import index.ts). */
export {
  ADMIN,
  actorOf,
  ctxOf,
  field,
  fieldList,
  firstUse,
  flash,
  newFormNonce,
  queryString,
  typedField,
} from './common';
