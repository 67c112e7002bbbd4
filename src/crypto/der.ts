/**
 * A minimal DER reader and writer: enough to take a PKCS #10 request apart
 * into its raw parts and to put a new one together, byte for byte as Go's
 * encoding/asn1 would (definite lengths, minimal length octets). Parsing
 * is strict: indefinite or non-minimal lengths, high tag numbers and
 * truncated input are errors.
 */

export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DerError";
  }
}

/** One TLV: its identifier octet, and where its header and contents sit in the input. */
export interface Tlv {
  /** The identifier octet (class, constructed bit and tag number < 31). */
  tag: number;
  start: number;
  contentStart: number;
  end: number;
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  NUMERIC_STRING: 0x12,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** The TLV at `offset`, which must end by `limit`. */
export function readTlv(buf: Uint8Array, offset: number, limit = buf.length): Tlv {
  if (offset + 2 > limit) throw new DerError("asn1: syntax error: data truncated");
  const tag = buf[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw new DerError("asn1: structure error: high tag numbers are not supported");
  let pos = offset + 1;
  const first = buf[pos++] as number;
  let length = first;
  if (first & 0x80) {
    const n = first & 0x7f;
    if (n === 0) throw new DerError("asn1: syntax error: indefinite length found (not DER)");
    if (n > 4) throw new DerError("asn1: structure error: length too large");
    if (pos + n > limit) throw new DerError("asn1: syntax error: data truncated");
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + (buf[pos++] as number);
    if ((buf[offset + 2] as number) === 0 || length < 0x80) {
      throw new DerError("asn1: structure error: length is not minimally encoded");
    }
  }
  if (pos + length > limit) throw new DerError("asn1: syntax error: data truncated");
  return { tag, start: offset, contentStart: pos, end: pos + length };
}

/** The TLVs directly inside a constructed TLV (or a byte range). */
export function children(buf: Uint8Array, parent: Pick<Tlv, "contentStart" | "end">): Tlv[] {
  const out: Tlv[] = [];
  let pos = parent.contentStart;
  while (pos < parent.end) {
    const tlv = readTlv(buf, pos, parent.end);
    out.push(tlv);
    pos = tlv.end;
  }
  return out;
}

/**
 * Up to `max` TLVs from the start of a constructed TLV, the rest left
 * unread: Go's encoding/asn1 ignores whatever follows a struct's last
 * field inside its SEQUENCE, even bytes that are no TLV.
 */
export function leadingChildren(
  buf: Uint8Array,
  parent: Pick<Tlv, "contentStart" | "end">,
  max: number,
): Tlv[] {
  const out: Tlv[] = [];
  let pos = parent.contentStart;
  while (pos < parent.end && out.length < max) {
    const tlv = readTlv(buf, pos, parent.end);
    out.push(tlv);
    pos = tlv.end;
  }
  return out;
}

export function contents(buf: Uint8Array, tlv: Tlv): Buffer {
  return Buffer.from(buf.subarray(tlv.contentStart, tlv.end));
}

export function whole(buf: Uint8Array, tlv: Tlv): Buffer {
  return Buffer.from(buf.subarray(tlv.start, tlv.end));
}

/** A TLV with DER's minimal definite length. */
export function encodeTlv(tag: number, ...parts: Uint8Array[]): Buffer {
  const body = Buffer.concat(parts);
  const n = body.length;
  let header: number[];
  if (n < 0x80) {
    header = [tag, n];
  } else {
    const octets: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) octets.unshift(v % 256);
    header = [tag, 0x80 | octets.length, ...octets];
  }
  return Buffer.concat([Buffer.from(header), body]);
}

/** A BIT STRING of whole bytes (no unused bits), as Go marshals signatures and keys. */
export function encodeBitString(bytes: Uint8Array): Buffer {
  return encodeTlv(TAG.BIT_STRING, Buffer.of(0), bytes);
}

/** A dotted OID in DER (content and header). */
export function encodeOid(dotted: string): Buffer {
  const arcs = dotted.split(".").map((a) => BigInt(a));
  const [a0 = 0n, a1 = 0n, ...rest] = arcs;
  const out: number[] = [];
  for (const arc of [a0 * 40n + a1, ...rest]) {
    const bytes: number[] = [Number(arc & 0x7fn)];
    for (let v = arc >> 7n; v > 0n; v >>= 7n) bytes.unshift(Number((v & 0x7fn) | 0x80n));
    out.push(...bytes);
  }
  return encodeTlv(TAG.OID, Buffer.from(out));
}
