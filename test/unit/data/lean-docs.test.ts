/**
 * leanDocument (src/data/lean-docs.ts) must give what a mongoose document gives: the same stored fields
 * (setters, casts, defaults) and the same validation errors, for each model the bulk ingest writes.
 */
import { Error as MongooseError, Schema, Types, model } from 'mongoose';
import { leanDocument, leanDocuments, type ModelLike } from '../../../src/data/lean-docs';
import { ActionTokenModel, MailMessageModel, UserModel } from '../../../src/data/models';

type Plain = Record<string, unknown>;

async function viaDocument(model: ModelLike, input: Plain) {
  const d = new model(input);
  const err = await d.validate().then(
    () => null,
    (e: unknown) => e as MongooseError.ValidationError,
  );
  return {
    doc: d.toObject({ depopulate: true }) as Plain,
    errors: err ? Object.fromEntries(Object.entries(err.errors).map(([p, e]) => [p, e.message])) : null,
  };
}

async function expectSame(model: ModelLike, input: Plain) {
  const lean = await leanDocument(model, input);
  const want = await viaDocument(model, input);
  expect(lean.doc).toEqual(want.doc);
  expect(lean.error ? Object.fromEntries(Object.entries(lean.error.errors).map(([p, e]) => [p, e.message])) : null).toEqual(
    want.errors,
  );
  return lean;
}

const id = () => new Types.ObjectId();
const user = (over: Plain = {}): Plain => ({
  _id: id(),
  firstName: '  Zoë ',
  lastName: 'Bulk, Row 1',
  email: ' Bulk1@Example.com ',
  emailKey: 'bulk1@example.com',
  username: 'Bulk1@Example.com',
  alias: 'zbulk',
  communityNickname: 'bulk1',
  localeSidKey: 'en_US',
  timeZoneSidKey: 'Europe/Paris',
  languageLocaleKey: 'en_US',
  emailEncodingKey: 'UTF-8',
  profile: id(),
  license: id(),
  userType: 'customer',
  contact: null,
  site: null,
  isActive: true,
  usernameAsSent: null,
  scimExternalIds: [],
  ...over,
});

describe('users', () => {
  it('stores a valid user exactly as a document would (trimmed, lower-cased, defaults) and finds no error', async () => {
    const { doc, error } = await expectSame(UserModel as ModelLike, user());
    expect(error).toBeNull();
    expect(doc.email).toBe('bulk1@example.com');
    expect(doc.firstName).toBe('Zoë');
    expect(doc.permissionSets).toEqual([]);
    expect(doc.mfa).toBeNull();
    expect('searchTerms' in doc).toBe(false);
  });

  it('fills the defaults of fields left out', async () => {
    const input = user();
    for (const k of ['localeSidKey', 'timeZoneSidKey', 'languageLocaleKey', 'emailEncodingKey', 'firstName'])
      delete input[k];
    const { doc } = await expectSame(UserModel as ModelLike, input);
    expect(doc).toMatchObject({ localeSidKey: 'en_US', timeZoneSidKey: 'GMT', emailEncodingKey: 'UTF-8', firstName: '' });
  });

  it.each([
    ['a missing last name', { lastName: undefined }, ['lastName']],
    ['a blank last name', { lastName: '   ' }, ['lastName']],
    ['a bad address and username', { email: 'nope', username: 'nope' }, ['email', 'username']],
    ['too long an alias', { alias: 'abcdefghijk' }, ['alias']],
    ['an unknown time zone', { timeZoneSidKey: 'Mars/Olympus' }, ['timeZoneSidKey']],
    ['a bad locale', { localeSidKey: 'english' }, ['localeSidKey']],
    ['an unknown encoding', { emailEncodingKey: 'EBCDIC' }, ['emailEncodingKey']],
    ['a user type outside the list', { userType: 'robot' }, ['userType']],
    ['an id that is not one', { profile: 'not-an-id' }, ['profile']],
    ['a date that is not one', { passwordChangedAt: 'someday' }, ['passwordChangedAt']],
    ['a first name of 41 characters', { firstName: 'x'.repeat(41) }, ['firstName']],
  ])('reports %s as the document does', async (_what, over, paths) => {
    const { error } = await expectSame(UserModel as ModelLike, user(over));
    expect(Object.keys(error?.errors ?? {}).sort()).toEqual(paths);
    expect(error).toBeInstanceOf(MongooseError.ValidationError);
  });

  it('drops fields the schema does not have (strict), as a document does', async () => {
    const { doc } = await expectSame(UserModel as ModelLike, user({ isAdmin: true, $where: 'x' }));
    expect('isAdmin' in doc).toBe(false);
  });

  it('falls back to a document for a SCIM external id (a subdocument array), with the same answer', async () => {
    const { doc } = await expectSame(UserModel as ModelLike, user({ scimExternalIds: [{ owner: id(), value: 'ext-1' }] }));
    expect(doc.scimExternalIds).toHaveLength(1);
    await expectSame(UserModel as ModelLike, user({ scimExternalIds: [{ owner: id() }] }));
  });
});

it('builds mails and tokens as their models do, and refuses an invalid one like an ordered insertMany', async () => {
  const mail = {
    _id: id(),
    to: 'a@example.com',
    template: 'invitation',
    user: id(),
    nextAttemptAt: new Date(0),
    fromName: null,
    fromAddress: null,
    subject: 'You are invited',
    text: 'x',
    html: '<p>x</p>',
  };
  expect((await expectSame(MailMessageModel as ModelLike, mail)).doc).toMatchObject({ state: 'queued', attempts: 0 });
  await expectSame(MailMessageModel as ModelLike, { ...mail, subject: 's'.repeat(301) });
  const token = { _id: id(), purpose: 'invite', user: id(), hash: 'ab', expiresAt: new Date(0) };
  expect((await expectSame(ActionTokenModel as ModelLike, token)).doc).toMatchObject({ usedAt: null, revokedAt: null });
  await expectSame(ActionTokenModel as ModelLike, { ...token, purpose: 'steal' });
  await expect(leanDocuments(ActionTokenModel as ModelLike, [token, { ...token, hash: undefined }])).rejects.toThrow(
    MongooseError.ValidationError,
  );
});


describe('a schema with an async validator', () => {
  it('is checked through a real document, so the async rule is not skipped', async () => {
    const schema = new Schema({
      code: {
        type: String,
        validate: { validator: async (v: string) => v !== 'taken', message: 'code is taken' },
      },
    });
    const Model = model(`LeanAsync${Date.now()}`, schema) as unknown as ModelLike;
    const refused = await expectSame(Model, { _id: id(), code: 'taken' });
    expect(refused.error?.errors.code?.message).toBe('code is taken');
    expect((await expectSame(Model, { _id: id(), code: 'free' })).error).toBeNull();
  });
});
