/**
 * MongoDB wire protocol framing: OP_MSG (2013) both ways, legacy OP_QUERY (2004) in and OP_REPLY (1) out
 * for the driver's first hello. No compression is advertised, so OP_COMPRESSED never arrives.
 */
import { Double, Int32, deserialize, serialize, type Document } from 'bson';

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_MSG = 2013;
const CHECKSUM_PRESENT = 1;
export const MORE_TO_COME = 2;
const EXHAUST_ALLOWED = 1 << 16;

const RAW_OPTIONS = { promoteValues: false, promoteBuffers: false, bsonRegExp: false } as const;

/**
 * The value with MongoDB's numeric types kept where a JS number would lose them: an Int32 becomes a
 * number (numbers that are integers serialize back as Int32), a Double with a fractional part too
 * (it serializes back as a Double), but a Double holding an integer (1.0, -0) stays a Double and an
 * Int64 stays a Long, whatever its value. The matcher and comparisons read them by value.
 */
function keepNumericTypes(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof Int32) return v.value;
  if (v instanceof Double) return Number.isInteger(v.value) || Object.is(v.value, -0) ? v : v.value;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = keepNumericTypes(v[i]);
    return v;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) {
    const o = v as Document;
    for (const k in o) o[k] = keepNumericTypes(o[k]);
  }
  return v;
}

/** Decodes a BSON document for the engine (commands, stored documents, journal records). */
export function decode(buf: Uint8Array): Document {
  return keepNumericTypes(deserialize(buf, RAW_OPTIONS)) as Document;
}

export interface IncomingMessage {
  requestId: number;
  opCode: number;
  /** The command document, with OP_MSG document sequences folded in as arrays. */
  command: Document;
  /** OP_QUERY's full collection name (`admin.$cmd`). */
  collection?: string;
  /** The client does not want an answer (unacknowledged write). */
  moreToCome: boolean;
  /** The client accepts a stream of answers (the driver's monitor uses it for awaitable hello). */
  exhaustAllowed: boolean;
}

export function parseMessage(buf: Buffer): IncomingMessage {
  const requestId = buf.readInt32LE(4);
  const opCode = buf.readInt32LE(12);
  if (opCode === OP_MSG) {
    const flags = buf.readUInt32LE(16);
    const end = flags & CHECKSUM_PRESENT ? buf.length - 4 : buf.length;
    let offset = 20;
    let command: Document | undefined;
    const sequences: Record<string, Document[]> = {};
    while (offset < end) {
      const kind = buf[offset++];
      if (kind === 0) {
        const size = buf.readInt32LE(offset);
        command = decode(buf.subarray(offset, offset + size));
        offset += size;
      } else if (kind === 1) {
        const size = buf.readInt32LE(offset);
        const sectionEnd = offset + size;
        let p = offset + 4;
        const nul = buf.indexOf(0, p);
        const identifier = buf.toString('utf8', p, nul);
        p = nul + 1;
        const docs: Document[] = [];
        while (p < sectionEnd) {
          const docSize = buf.readInt32LE(p);
          docs.push(decode(buf.subarray(p, p + docSize)));
          p += docSize;
        }
        sequences[identifier] = docs;
        offset = sectionEnd;
      } else {
        throw new Error(`unknown OP_MSG section kind ${kind}`);
      }
    }
    if (!command) throw new Error('OP_MSG without a body');
    for (const [k, v] of Object.entries(sequences)) command[k] = v;
    return {
      requestId,
      opCode,
      command,
      moreToCome: Boolean(flags & MORE_TO_COME),
      exhaustAllowed: Boolean(flags & EXHAUST_ALLOWED),
    };
  }
  if (opCode === OP_QUERY) {
    let offset = 20;
    const nul = buf.indexOf(0, offset);
    const collection = buf.toString('utf8', offset, nul);
    offset = nul + 1 + 8; // skip numberToSkip, numberToReturn
    const size = buf.readInt32LE(offset);
    let command = decode(buf.subarray(offset, offset + size));
    // Legacy form wraps the command: { $query: { isMaster: 1 }, $readPreference: ... }
    if (command.$query) command = command.$query as Document;
    return { requestId, opCode, command, collection, moreToCome: false, exhaustAllowed: false };
  }
  throw new Error(`unsupported opCode ${opCode}`);
}

let nextRequestId = 1;
export const lastRequestId = () => nextRequestId - 1;

export function encodeMsg(responseTo: number, doc: Document, flags = 0): Buffer {
  const body = serialize(doc);
  const header = Buffer.alloc(21);
  header.writeInt32LE(21 + body.length, 0);
  header.writeInt32LE(nextRequestId++, 4);
  header.writeInt32LE(responseTo, 8);
  header.writeInt32LE(OP_MSG, 12);
  header.writeUInt32LE(flags, 16);
  header[20] = 0;
  return Buffer.concat([header, body]);
}

export function encodeReply(responseTo: number, doc: Document): Buffer {
  const body = serialize(doc);
  const header = Buffer.alloc(36);
  header.writeInt32LE(36 + body.length, 0);
  header.writeInt32LE(nextRequestId++, 4);
  header.writeInt32LE(responseTo, 8);
  header.writeInt32LE(OP_REPLY, 12);
  header.writeInt32LE(0, 16); // responseFlags
  header.writeBigInt64LE(0n, 20); // cursorID
  header.writeInt32LE(0, 28); // startingFrom
  header.writeInt32LE(1, 32); // numberReturned
  return Buffer.concat([header, body]);
}
