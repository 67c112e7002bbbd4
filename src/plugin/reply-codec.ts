/**
 * HandleRequestReply encoded for a large response (a batch's results): the
 * generated encoder (@bufbuild/protobuf's BinaryWriter) grows a buffer to
 * three times the string's length, encodes into it and copies the result
 * twice more, all in one go on the event loop. Here the data string is
 * written once, UTF-8, into a buffer of the exact size; every other field is
 * the generated encoder's. Field order on the wire differs (Response.data
 * first), which protobuf decoders accept; test/hardening/reply-codec.test.ts
 * decodes both with the generated decoder.
 */
import { HandleRequestReply, Response } from "../gen/sdk/plugin/pb/backend.ts";

/** Below this many characters of data the generated encoder is used as is. */
export const LARGE_REPLY = 64 * 1024;
/** Wire tags: field 1 length-delimited (HandleRequestReply.response), field 3 (Response.data). */
const TAG_RESPONSE = 0x0a;
const TAG_DATA = 0x1a;

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function writeVarint(buf: Buffer, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}

export function encodeHandleRequestReply(reply: HandleRequestReply): Buffer {
  const data = reply.response?.data ?? "";
  if (reply.response === undefined || data.length < LARGE_REPLY) {
    return Buffer.from(HandleRequestReply.encode(reply).finish());
  }
  const rest = Response.encode({ ...reply.response, data: "" }).finish();
  const err =
    reply.err !== undefined ? HandleRequestReply.encode({ err: reply.err }).finish() : new Uint8Array(0);
  const dataLen = Buffer.byteLength(data, "utf8");
  const responseLen = 1 + varintSize(dataLen) + dataLen + rest.length;
  const out = Buffer.allocUnsafe(1 + varintSize(responseLen) + responseLen + err.length);
  let pos = 0;
  out[pos++] = TAG_RESPONSE;
  pos = writeVarint(out, pos, responseLen);
  out[pos++] = TAG_DATA;
  pos = writeVarint(out, pos, dataLen);
  pos += out.write(data, pos, "utf8");
  out.set(rest, pos);
  pos += rest.length;
  out.set(err, pos);
  return out;
}
