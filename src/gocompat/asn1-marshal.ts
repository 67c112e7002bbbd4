import { encodeTlv, TAG } from "../crypto/der.ts";
import type { Asn1Time, GoAny } from "./asn1.ts";

/**
 * Go's encoding/asn1 marshaling of the values asn1.ts parses into `any`
 * (encoding/asn1/marshal.go: makeBody for string and time.Time, the nil
 * and invalid UTF-8 errors), with Go's messages.
 */

export class Asn1MarshalError extends Error {}

/** Go's isPrintable when marshaling: no asterisk or ampersand. */
const PRINTABLE_MARSHAL = /^[a-zA-Z0-9'()+,\-./:=? ]*$/;

/** The DER Go's asn1.Marshal writes for a value held in `any`; Asn1MarshalError where Go fails. */
export function marshalGoAny(v: GoAny): Buffer {
  switch (v.kind) {
    case "raw":
      return v.der;
    case "string":
      return marshalAsn1String(v.value);
    case "time":
      return marshalAsn1Time(v.time);
    case "nil":
      throw new Asn1MarshalError("asn1: cannot marshal nil value");
    case "invalid-utf8":
      throw new Asn1MarshalError("asn1: string not valid UTF-8");
  }
}

/** A Go string: PrintableString when every character allows it, else UTF8String. */
export function marshalAsn1String(s: string): Buffer {
  const tag = PRINTABLE_MARSHAL.test(s) ? TAG.PRINTABLE_STRING : TAG.UTF8_STRING;
  return encodeTlv(tag, Buffer.from(s, "utf8"));
}

/** A time.Time: UTCTime for 1950..2049, GeneralizedTime otherwise, always with seconds and its zone. */
export function marshalAsn1Time(t: Asn1Time): Buffer {
  const two = (n: number): string => String(n).padStart(2, "0");
  const tail = `${two(t.month)}${two(t.day)}${two(t.hour)}${two(t.minute)}${two(t.second)}${t.zone}`;
  if (t.year >= 1950 && t.year < 2050) {
    return encodeTlv(TAG.UTC_TIME, Buffer.from(`${two(t.year % 100)}${tail}`));
  }
  return encodeTlv(TAG.GENERALIZED_TIME, Buffer.from(`${String(t.year).padStart(4, "0")}${tail}`));
}
