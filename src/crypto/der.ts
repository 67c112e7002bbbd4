/**
 * A minimal DER reader and writer (X.690): TLVs by offset, a cursor over a
 * constructed value's contents, the OID codec and DER's canonical-form
 * checks for INTEGER, BIT STRING and OBJECT IDENTIFIER contents. Parsing is
 * strict: indefinite or non-minimal lengths, high tag numbers and truncated
 * input are errors. Messages are Go's encoding/asn1 ones, because the Go
 * emulation in src/gocompat builds on this reader and answers with them.
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

/** A dotted OID from its DER contents (base-128 arcs; the first octet holds two). */
export function decodeOid(body: Uint8Array): string {
  const arcs: bigint[] = [];
  let v = 0n;
  for (const b of body) {
    v = (v << 7n) | BigInt(b & 0x7f);
    if ((b & 0x80) === 0) {
      arcs.push(v);
      v = 0n;
    }
  }
  const first = arcs.shift() ?? 0n;
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  return [...head, ...arcs].join(".");
}

/** An OBJECT IDENTIFIER TLV with non-empty contents, the last arc ended, every arc minimal (X.690 8.19.2). */
export function validOid(der: Uint8Array, tlv: Tlv): boolean {
  if (tlv.tag !== TAG.OID || tlv.end === tlv.contentStart) return false;
  if (((der[tlv.end - 1] as number) & 0x80) !== 0) return false;
  let start = true;
  for (let i = tlv.contentStart; i < tlv.end; i++) {
    const b = der[i] as number;
    if (start && b === 0x80) return false;
    start = (b & 0x80) === 0;
  }
  return true;
}

/** An INTEGER TLV in minimal two's complement (X.690 8.3.2). */
export function validInteger(der: Uint8Array, tlv: Tlv): boolean {
  if (tlv.tag !== TAG.INTEGER || tlv.end === tlv.contentStart) return false;
  return minimalInteger(der.subarray(tlv.contentStart, tlv.end));
}

/** INTEGER contents that are non-empty and minimal (no redundant leading 0x00 or 0xff octet). */
export function minimalInteger(body: Uint8Array): boolean {
  const b0 = body[0];
  if (b0 === undefined) return false;
  const b1 = body[1];
  return !(b1 !== undefined && ((b0 === 0 && (b1 & 0x80) === 0) || (b0 === 0xff && (b1 & 0x80) !== 0)));
}

/** BIT STRING contents: an unused-bits count 0..7 (0 when empty), the unused bits zero (X.690 11.2). */
export function validBitStringBody(body: Uint8Array): boolean {
  const pad = body[0];
  if (pad === undefined || pad > 7 || (body.length === 1 && pad > 0)) return false;
  return ((body[body.length - 1] as number) & ((1 << pad) - 1)) === 0;
}

/** BIT STRING contents shifted right by the unused-bits count (Go's asn1.BitString.RightAlign). */
export function rightAlign(body: Uint8Array): Buffer {
  const pad = body[0] ?? 0;
  const bytes = body.subarray(1);
  if (pad === 0 || bytes.length === 0) return Buffer.from(bytes);
  const out = Buffer.alloc(bytes.length);
  out[0] = (bytes[0] as number) >> pad;
  for (let i = 1; i < bytes.length; i++) {
    out[i] = (((bytes[i - 1] as number) << (8 - pad)) & 0xff) | ((bytes[i] as number) >> pad);
  }
  return out;
}

/** Reads TLVs from the front of a constructed value's contents (as cryptobyte.String does). */
export class DerCursor {
  constructor(
    readonly buf: Uint8Array,
    public pos: number,
    readonly end: number,
  ) {}

  /** Over a TLV's contents, or over the whole buffer. */
  static of(buf: Uint8Array, tlv?: Tlv): DerCursor {
    return tlv === undefined
      ? new DerCursor(buf, 0, buf.length)
      : new DerCursor(buf, tlv.contentStart, tlv.end);
  }

  empty(): boolean {
    return this.pos >= this.end;
  }

  peek(tag: number): boolean {
    return !this.empty() && this.buf[this.pos] === tag;
  }

  /** The next element if it has `tag` and is well formed; null (nothing consumed) otherwise. */
  read(tag: number): Tlv | null {
    if (!this.peek(tag)) return null;
    return this.readAny();
  }

  /** The next element whatever its tag; null (nothing consumed) when none is well formed. */
  readAny(): Tlv | null {
    if (this.empty()) return null;
    try {
      const t = readTlv(this.buf, this.pos, this.end);
      this.pos = t.end;
      return t;
    } catch {
      return null;
    }
  }
}
