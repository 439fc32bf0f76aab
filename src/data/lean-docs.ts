/**
 * The plain object a model's document would insert, checked by the model's own schema, without building a
 * mongoose document. Bulk ingest writes several records per imported row (the user, its invitation token
 * and mail); a hydrated document for each, with its change tracking and async validation, was a quarter
 * of the ingest thread's CPU. This walks the same schema with the same SchemaTypes: each path's setters
 * and cast (trim, lowercase, ObjectId...), its default, then its validators (required, maxlength, match,
 * enum, custom), as Document does, so the rules are never forked and a schema change applies here too.
 *
 * Covered: top-level paths of any type, empty arrays and null subdocuments. A record that carries a
 * non-empty array or a subdocument (a SCIM external id, an MFA block) is built by a real document
 * instead: same answer, usual cost. test/unit/data/lean-docs.test.ts compares both ways on every model
 * the ingest writes, valid and invalid values alike.
 */
import { type Document, Error as MongooseError, type Schema, type SchemaType } from 'mongoose';

type Plain = Record<string, unknown>;

/** Any model: only its schema and its constructor are used. */
export interface ModelLike {
  schema: Schema;
  modelName: string;
  new (doc?: Plain): Document;
}

export interface LeanDoc {
  doc: Plain;
  /** What Document#validate would have thrown, or null. */
  error: MongooseError.ValidationError | null;
}

interface Plan {
  paths: [string, SchemaType][];
  /** A schema with nested (dotted) plain paths or an async validator: always through a document. */
  documentsOnly: boolean;
}
const plans = new WeakMap<Schema, Plan>();

function planOf(schema: Schema): Plan {
  let plan = plans.get(schema);
  if (!plan) {
    const versionKey = schema.get('versionKey');
    const paths = Object.entries(schema.paths).filter(([p]) => p !== versionKey);
    // doValidateSync skips a validator that answers with a promise: a schema with an async validator
    // goes through a real document, so no rule is ever left out here.
    const asyncValidator = paths.some(([, t]) =>
      (t as unknown as { validators: { validator?: unknown }[] }).validators.some(
        (v) => typeof v.validator === 'function' && v.validator.constructor.name === 'AsyncFunction',
      ),
    );
    plan = { paths, documentsOnly: asyncValidator || paths.some(([p]) => p.includes('.')) };
    plans.set(schema, plan);
  }
  return plan;
}

const isComposite = (t: SchemaType) =>
  Boolean((t as unknown as { $isMongooseArray?: boolean }).$isMongooseArray) ||
  Boolean((t as unknown as { $isSingleNested?: boolean }).$isSingleNested);

/** Null for an empty array (stored as []), undefined when the value needs a real document. */
function simpleComposite(v: unknown): unknown[] | null | undefined {
  if (v === null) return null;
  return Array.isArray(v) && v.length === 0 ? [] : undefined;
}

type TypeInternals = {
  applySetters(v: unknown, scope: unknown, init: boolean): unknown;
  getDefault(scope: unknown, init: boolean): unknown;
  doValidateSync(v: unknown, scope: unknown, opts: { path: string }): Error | null;
  instance: string;
};

/** The document's own answer (the fallback for subdocuments and non-empty arrays). */
async function viaDocument(model: ModelLike, input: Plain): Promise<LeanDoc> {
  const d = new model(input);
  const error = await d.validate().then(
    () => null,
    (e: unknown) => {
      if (e instanceof MongooseError.ValidationError) return e;
      throw e;
    },
  );
  return { doc: d.toObject({ depopulate: true }) as Plain, error };
}

/**
 * `input` as the model would store it (setters, casts and defaults applied; unknown keys dropped, as
 * strict mode does) and the validation error a document would report. No timestamps, no version key:
 * the caller inserts with its own (as insertMany does).
 */
export async function leanDocument(model: ModelLike, input: Plain): Promise<LeanDoc> {
  const plan = planOf(model.schema);
  if (plan.documentsOnly) return viaDocument(model, input);
  const doc: Plain = {};
  let error: MongooseError.ValidationError | null = null;
  const fail = (path: string, err: Error) => {
    error ??= new MongooseError.ValidationError();
    // As Document#invalidate does: a cast error names the model.
    if (err instanceof MongooseError.CastError) (err as unknown as { setModel(m: unknown): void }).setModel(model);
    error.addError(path, err as MongooseError.ValidatorError);
  };
  const cast: [string, SchemaType, unknown][] = [];
  for (const [path, type] of plan.paths) {
    const t = type as unknown as TypeInternals;
    const given = Object.prototype.hasOwnProperty.call(input, path) ? input[path] : undefined;
    let v: unknown;
    if (given === undefined) {
      const declared = (type as unknown as { defaultValue?: unknown }).defaultValue;
      if (!isComposite(type)) v = t.getDefault(doc, false);
      else if (declared !== undefined) {
        // An array's default (its implicit [] too) is a function; a subdocument's is null or an object.
        // getDefault would cast it into a mongoose array, which needs a document as its parent.
        const d = typeof declared === 'function' ? (declared as (this: Plain) => unknown).call(doc) : declared;
        v = d == null ? d : simpleComposite(d);
        if (v === undefined) return viaDocument(model, input);
      }
    } else if (isComposite(type)) {
      v = simpleComposite(given);
      if (v === undefined) return viaDocument(model, input);
    } else {
      try {
        v = t.applySetters(given, doc, false);
      } catch (e) {
        // As Document#$set reports it: the cast error under its path, or the reason wrapped in one; the
        // path keeps its default, as the document does when it refuses a value.
        if (e instanceof MongooseError.CastError) fail(e.path, e);
        else fail(path, new MongooseError.CastError(t.instance, given, path, e as Error));
        v = t.getDefault(doc, false);
        if (v !== undefined) doc[path] = v;
        continue;
      }
    }
    if (v !== undefined) doc[path] = v;
    cast.push([path, type, v]);
  }
  for (const [path, type, v] of cast) {
    const err = (type as unknown as TypeInternals).doValidateSync(v, doc, { path });
    if (err) fail(path, err);
  }
  return { doc, error };
}

/** leanDocument for many; throws the first validation error, as an ordered insertMany does. */
export async function leanDocuments(model: ModelLike, inputs: Plain[]): Promise<Plain[]> {
  const docs: Plain[] = [];
  for (const input of inputs) {
    const { doc, error } = await leanDocument(model, input);
    if (error) throw error;
    docs.push(doc);
  }
  return docs;
}

/**
 * What a non-lean `insertMany(inputs)` would write, ready for `insertMany(docs, { lean: true })`: each
 * record through leanDocument (the first invalid one throws, inserting nothing, as an ordered insertMany
 * does), then the version key at 0 and the schema's timestamps, as insertMany sets them.
 */
export async function documentsToInsert(
  model: ModelLike & { applyTimestamps(obj: Plain): Plain },
  inputs: Plain[],
): Promise<Plain[]> {
  const docs = await leanDocuments(model, inputs);
  const versionKey = model.schema.get('versionKey') as string | false | undefined;
  for (const doc of docs) {
    if (versionKey) doc[versionKey] = 0;
    model.applyTimestamps(doc);
  }
  return docs;
}
