/**
 * A partial BSON read: the top-level fields of a document that an index needs, decoded alone. Loading
 * a snapshot rebuilds index keys from these (the document itself stays bytes, doc-store.ts), instead
 * of decoding every field of every document.
 */
import type { Document } from 'bson';
import { decode } from './wire';

/** Bytes of the value of an element of `type` starting at `at` (BSON spec, bsonspec.org). */
function valueSize(b: Buffer, type: number, at: number): number {
  switch (type) {
    case 0x01:
    case 0x09:
    case 0x11:
    case 0x12:
      return 8; // double, date, timestamp, int64
    case 0x02:
    case 0x0d:
    case 0x0e:
      return 4 + b.readInt32LE(at); // string, code, symbol
    case 0x03:
    case 0x04:
    case 0x0f:
      return b.readInt32LE(at); // document, array, code with scope
    case 0x05:
      return 5 + b.readInt32LE(at); // binary
    case 0x06:
    case 0x0a:
    case 0xff:
    case 0x7f:
      return 0; // undefined, null, min/max key
    case 0x07:
      return 12; // ObjectId
    case 0x08:
      return 1; // boolean
    case 0x0b: {
      // regex: two C strings
      const end = b.indexOf(0, at);
      return b.indexOf(0, end + 1) + 1 - at;
    }
    case 0x0c:
      return 4 + b.readInt32LE(at) + 12; // DBPointer
    case 0x10:
      return 4; // int32
    case 0x13:
      return 16; // decimal128
    default:
      throw new Error(`unknown BSON type ${type}`);
  }
}

/** Each name set's names as UTF-8 bytes, so elements are matched without a string per element. */
const encodedNames = new WeakMap<ReadonlySet<string>, Buffer[]>();

function namesAsBytes(names: ReadonlySet<string>): Buffer[] {
  let bytes = encodedNames.get(names);
  if (!bytes) encodedNames.set(names, (bytes = [...names].map((n) => Buffer.from(n, 'utf8'))));
  return bytes;
}

/** Whether the element name at b[at, end) is one of `wanted` (compared as bytes). */
function isWanted(b: Buffer, at: number, end: number, wanted: Buffer[]): boolean {
  const len = end - at;
  for (const w of wanted) {
    if (w.length !== len) continue;
    let i = 0;
    while (i < len && w[i] === b[at + i]) i++;
    if (i === len) return true;
  }
  return false;
}

/** The document with only its top-level fields named in `names` (in their stored order). */
export function decodeFields(bytes: Uint8Array, names: ReadonlySet<string>): Document {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const wanted = namesAsBytes(names);
  const parts: Buffer[] = [];
  let size = 5;
  let at = 4;
  while (at < b.length - 1) {
    const start = at;
    const type = b[at++];
    const nameEnd = b.indexOf(0, at);
    const hit = isWanted(b, at, nameEnd, wanted);
    at = nameEnd + 1 + valueSize(b, type, nameEnd + 1);
    if (hit) {
      parts.push(b.subarray(start, at));
      size += at - start;
    }
  }
  const out = Buffer.allocUnsafe(size);
  out.writeInt32LE(size, 0);
  let to = 4;
  for (const p of parts) to += p.copy(out, to);
  out[to] = 0;
  return decode(out);
}
