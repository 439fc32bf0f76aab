import { Schema, model, type InferSchemaType, type HydratedDocument, type Types } from 'mongoose';

/**
 * A community page an admin authors for one site: its title, its text (plain text; rendered escaped,
 * never as HTML), links (http and https only: checked by community-pages.ts before a save) and its
 * audience (users whose license or profile is listed; either suffices). Who may open it is decided at
 * every request from the user as they are now, so an upgrade opens it at the next request.
 */
const linkSchema = new Schema(
  {
    label: { type: String, required: true, trim: true, maxlength: 80 },
    url: { type: String, required: true, trim: true, maxlength: 2000 },
  },
  { _id: false },
);

const communityPageSchema = new Schema(
  {
    site: { type: Schema.Types.ObjectId, ref: 'Site', required: true },
    title: { type: String, required: true, trim: true, maxlength: 120 },
    text: { type: String, default: '', maxlength: 20_000 },
    links: { type: [linkSchema], default: [] },
    audience: {
      type: new Schema(
        {
          licenses: { type: [{ type: Schema.Types.ObjectId, ref: 'License' }], default: [] },
          profiles: { type: [{ type: Schema.Types.ObjectId, ref: 'Profile' }], default: [] },
        },
        { _id: false },
      ),
      default: () => ({}),
    },
    createdBy: { type: Schema.Types.ObjectId, ref: 'User', default: null },
    updatedBy: { type: Schema.Types.ObjectId, ref: 'User', default: null },
  },
  { timestamps: true },
);
// A site's pages in title order (the admin list and the Community area); a license's or profile's pages (the upgrade notice).
communityPageSchema.index({ site: 1, title: 1 });
communityPageSchema.index({ 'audience.licenses': 1 });
communityPageSchema.index({ 'audience.profiles': 1 });

export type CommunityPage = InferSchemaType<typeof communityPageSchema> & { _id: Types.ObjectId };
export type CommunityPageDoc = HydratedDocument<InferSchemaType<typeof communityPageSchema>>;
export const CommunityPageModel = model('CommunityPage', communityPageSchema);
