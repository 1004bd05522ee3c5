/**
 * The MongoDB wire protocol as the official drivers speak it: framing, OP_MSG (kind-0 body and
 * kind-1 document sequences, the CRC-32C checksum, moreToCome), the legacy OP_QUERY handshake on
 * `<db>.$cmd`, and encoding replies as OP_MSG or OP_REPLY. Nothing here knows about commands.
 */
import { BSON, type Document } from "bson";
import { MessageError, ProtocolError } from "../errors.ts";
import { crc32c } from "./crc32c.ts";
import { serializeReply } from "./reply.ts";

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_COMPRESSED = 2012;
export const OP_MSG = 2013;

/** The largest message we accept or send (what `hello` advertises as maxMessageSizeBytes). */
export const MAX_MESSAGE_SIZE = 48_000_000;
const HEADER_SIZE = 16;

const FLAG_CHECKSUM = 1 << 0;
const FLAG_MORE_TO_COME = 1 << 1;
const FLAG_EXHAUST_ALLOWED = 1 << 16;
/** Bits 0-15 are "required": a receiver must refuse a message with one it does not know. */
const KNOWN_REQUIRED_FLAGS = FLAG_CHECKSUM | FLAG_MORE_TO_COME;

/** One request, parsed. */
export interface Request {
  opCode: typeof OP_MSG | typeof OP_QUERY;
  requestId: number;
  /** OP_MSG only: the client expects no reply. */
  moreToCome: boolean;
  /** The command document with any kind-1 sequences merged in (OP_QUERY: `$db` added). */
  command?: Document;
  /** Set instead of `command` when the body could not be understood. */
  error?: MessageError;
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

function readCString(buf: Uint8Array, pos: number, end: number): [string, number] {
  let i = pos;
  while (i < end && buf[i] !== 0) i++;
  if (i >= end) throw new MessageError(22, "InvalidBSON", "unterminated C string in message");
  try {
    return [UTF8.decode(buf.subarray(pos, i)), i + 1];
  } catch {
    throw new MessageError(22, "InvalidBSON", "C string in message is not valid UTF-8");
  }
}

function readDocument(
  buf: Uint8Array,
  view: DataView,
  pos: number,
  end: number,
): [Document, number] {
  if (pos + 5 > end) throw new MessageError(22, "InvalidBSON", "document runs past the section");
  const size = view.getInt32(pos, true);
  if (size < 5 || pos + size > end) {
    throw new MessageError(22, "InvalidBSON", "document length does not fit the section");
  }
  try {
    return [BSON.deserialize(buf.subarray(pos, pos + size)), pos + size];
  } catch (e) {
    throw new MessageError(22, "InvalidBSON", `invalid BSON: ${(e as Error).message}`);
  }
}

function parseMsg(frame: Uint8Array, view: DataView, requestId: number): Request {
  if (frame.length < HEADER_SIZE + 5) throw new ProtocolError("OP_MSG too short");
  const flags = view.getUint32(HEADER_SIZE, true);
  if ((flags & 0xffff) & ~KNOWN_REQUIRED_FLAGS) {
    throw new ProtocolError(`unknown required OP_MSG flag bits ${flags & 0xffff}`);
  }
  const moreToCome = (flags & FLAG_MORE_TO_COME) !== 0;
  let end = frame.length;
  if (flags & FLAG_CHECKSUM) {
    end -= 4;
    if (end < HEADER_SIZE + 5) throw new ProtocolError("OP_MSG too short for its checksum");
    const expected = view.getUint32(end, true);
    if (crc32c(frame.subarray(0, end)) !== expected) {
      throw new ProtocolError("OP_MSG checksum mismatch");
    }
  }
  void FLAG_EXHAUST_ALLOWED; // exhaust cursors are not offered; the bit is accepted and ignored.
  try {
    let pos = HEADER_SIZE + 4;
    let body: Document | undefined;
    const sequences: [string, Document[]][] = [];
    while (pos < end) {
      const kind = frame[pos++];
      if (kind === 0) {
        if (body) throw new MessageError(40, "Location40", "OP_MSG has more than one body section");
        [body, pos] = readDocument(frame, view, pos, end);
      } else if (kind === 1) {
        if (pos + 4 > end) throw new MessageError(22, "InvalidBSON", "truncated document sequence");
        const size = view.getInt32(pos, true);
        const seqEnd = pos + size;
        if (size < 5 || seqEnd > end) {
          throw new MessageError(22, "InvalidBSON", "document sequence length does not fit");
        }
        let id: string;
        [id, pos] = readCString(frame, pos + 4, seqEnd);
        const docs: Document[] = [];
        while (pos < seqEnd) {
          let doc: Document;
          [doc, pos] = readDocument(frame, view, pos, seqEnd);
          docs.push(doc);
        }
        sequences.push([id, docs]);
      } else {
        throw new ProtocolError(`unknown OP_MSG section kind ${kind}`);
      }
    }
    if (!body) throw new MessageError(40, "Location40", "OP_MSG has no body section");
    for (const [id, docs] of sequences) {
      if (Object.hasOwn(body, id)) {
        throw new MessageError(40, "Location40", `duplicate field '${id}' in OP_MSG`);
      }
      body[id] = docs;
    }
    return { opCode: OP_MSG, requestId, moreToCome, command: body };
  } catch (e) {
    if (e instanceof MessageError) return { opCode: OP_MSG, requestId, moreToCome, error: e };
    throw e;
  }
}

function parseQuery(frame: Uint8Array, view: DataView, requestId: number): Request {
  try {
    if (frame.length < HEADER_SIZE + 4 + 2 + 8 + 5) {
      throw new MessageError(22, "InvalidBSON", "OP_QUERY too short");
    }
    let pos = HEADER_SIZE + 4; // flags
    let ns: string;
    [ns, pos] = readCString(frame, pos, frame.length);
    pos += 8; // numberToSkip, numberToReturn
    let query: Document;
    [query] = readDocument(frame, view, pos, frame.length);
    const dot = ns.indexOf(".");
    if (dot <= 0 || ns.slice(dot + 1) !== "$cmd") {
      throw new MessageError(
        352,
        "UnsupportedOpQueryCommand",
        "Cannot run OP_QUERY: only commands on '<db>.$cmd' are supported",
      );
    }
    if (query.$query && typeof query.$query === "object") query = query.$query as Document;
    const command: Document = { ...query, $db: ns.slice(0, dot) };
    return { opCode: OP_QUERY, requestId, moreToCome: false, command };
  } catch (e) {
    if (e instanceof MessageError) {
      return { opCode: OP_QUERY, requestId, moreToCome: false, error: e };
    }
    throw e;
  }
}

/** Parses one whole frame (as `FrameReader` returns it). Throws `ProtocolError` to close. */
export function parseMessage(frame: Uint8Array): Request {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const requestId = view.getInt32(4, true);
  const opCode = view.getInt32(12, true);
  if (opCode === OP_MSG) return parseMsg(frame, view, requestId);
  if (opCode === OP_QUERY) return parseQuery(frame, view, requestId);
  throw new ProtocolError(`unsupported opCode ${opCode}`);
}

function putInt32(b: Uint8Array, at: number, v: number): void {
  b[at] = v;
  b[at + 1] = v >> 8;
  b[at + 2] = v >> 16;
  b[at + 3] = v >> 24;
}

/** Fills in a frame's header; the frame is `bytes`, whole. */
function writeHeader(bytes: Uint8Array, requestId: number, responseTo: number, opCode: number) {
  putInt32(bytes, 0, bytes.length);
  putInt32(bytes, 4, requestId);
  putInt32(bytes, 8, responseTo);
  putInt32(bytes, 12, opCode);
}

/** The OP_MSG prefix: flagBits (0), then a kind-0 section's kind byte (0). */
const MSG_PREFIX_SIZE = 5;
/** The OP_REPLY prefix: responseFlags, cursorID (0), startingFrom, numberReturned. */
const LEGACY_PREFIX_SIZE = 20;

/**
 * An OP_MSG reply carrying `doc` as its body (written in place behind the header), in `into`
 * when given and large enough (the caller's reusable buffer: the frame is valid until its next
 * use).
 */
export function encodeMsgReply(
  requestId: number,
  responseTo: number,
  doc: Document,
  into?: Uint8Array,
): Uint8Array {
  const bytes = serializeReply(doc, HEADER_SIZE + MSG_PREFIX_SIZE, into);
  bytes.fill(0, HEADER_SIZE, HEADER_SIZE + MSG_PREFIX_SIZE); // flagBits 0, a kind-0 section
  writeHeader(bytes, requestId, responseTo, OP_MSG);
  return bytes;
}

/** An OP_REPLY (answer to OP_QUERY) carrying `doc` as its only document. */
export function encodeLegacyReply(
  requestId: number,
  responseTo: number,
  doc: Document,
  into?: Uint8Array,
): Uint8Array {
  const bytes = serializeReply(doc, HEADER_SIZE + LEGACY_PREFIX_SIZE, into);
  bytes.fill(0, HEADER_SIZE, HEADER_SIZE + LEGACY_PREFIX_SIZE);
  writeHeader(bytes, requestId, responseTo, OP_REPLY);
  putInt32(bytes, HEADER_SIZE + 16, 1); // numberReturned
  return bytes;
}

/** Something to read bytes from (a `Deno.Conn`). */
export interface ByteSource {
  read(p: Uint8Array): Promise<number | null>;
}

const INITIAL_BUFFER = 16 * 1024;

/**
 * Splits a byte stream into whole frames. A returned frame is a view into an internal buffer,
 * valid until the next call to `next()`.
 */
export class FrameReader {
  #buf = new Uint8Array(INITIAL_BUFFER);
  #start = 0;
  #end = 0;

  constructor(private readonly source: ByteSource) {}

  /** The next frame, or null at a clean end of stream. Throws `ProtocolError` on a bad frame. */
  async next(): Promise<Uint8Array | null> {
    for (;;) {
      const available = this.#end - this.#start;
      let need = 4;
      if (available >= 4) {
        const b = this.#buf;
        const s = this.#start;
        const length = b[s] | (b[s + 1] << 8) | (b[s + 2] << 16) | (b[s + 3] << 24);
        if (length < HEADER_SIZE || length > MAX_MESSAGE_SIZE) {
          throw new ProtocolError(`bad message length ${length}`);
        }
        if (available >= length) {
          const frame = this.#buf.subarray(s, s + length);
          this.#start += length;
          return frame;
        }
        need = length;
      }
      this.#makeRoom(need);
      const n = await this.source.read(this.#buf.subarray(this.#end));
      if (n === null) {
        if (this.#end === this.#start) return null;
        throw new ProtocolError("connection closed inside a frame");
      }
      this.#end += n;
    }
  }

  /** Ensures the buffer can hold `need` bytes from `#start`, compacting or growing it. */
  #makeRoom(need: number): void {
    const available = this.#end - this.#start;
    if (available === 0 && this.#buf.length > 1024 * 1024 && need <= INITIAL_BUFFER) {
      this.#buf = new Uint8Array(INITIAL_BUFFER); // give back a buffer grown for a big message
      this.#start = this.#end = 0;
      return;
    }
    if (this.#start + need <= this.#buf.length && this.#end < this.#buf.length) return;
    if (need <= this.#buf.length) {
      this.#buf.copyWithin(0, this.#start, this.#end);
    } else {
      const bigger = new Uint8Array(
        Math.max(need, Math.min(this.#buf.length * 2, MAX_MESSAGE_SIZE)),
      );
      bigger.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = bigger;
    }
    this.#start = 0;
    this.#end = available;
  }
}
