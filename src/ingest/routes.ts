/** The HTTP surface of ingest/: its admin pages (/admin/bulk), for the admin shell. */
export { adminIngestRouter } from './admin-pages';
