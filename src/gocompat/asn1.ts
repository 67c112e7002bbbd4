import { contents, TAG, type Tlv, validBitStringBody, validOid, whole } from "../crypto/der.ts";

/**
 * Go's encoding/asn1 unmarshaling of one value into an `any` field
 * (encoding/asn1/asn1.go: parseField with an interface{} target, the
 * parse* functions of each universal type). What Go keeps is described so
 * that asn1-marshal.ts can write it back as Go's Marshal would; undefined
 * means Go's parse fails.
 */

/** A time as Go's parseUTCTime / parseGeneralizedTime read it (zone "Z" or "±hhmm"). */
export interface Asn1Time {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  zone: string;
}

export type GoAny =
  /** OCTET STRING, OBJECT IDENTIFIER, INTEGER (int64), BIT STRING: marshaled back to the same bytes. */
  | { kind: "raw"; der: Buffer }
  /** Every string type Go knows becomes a Go string. */
  | { kind: "string"; value: string }
  | { kind: "time"; time: Asn1Time }
  /** A tag Go does not know: the field stays nil, and nil does not marshal. */
  | { kind: "nil" }
  /** A T61String that is not UTF-8: Go holds the bytes but will not marshal them. */
  | { kind: "invalid-utf8" };

/** Go's isPrintable with the asterisk and ampersand it allows when parsing. */
export const PRINTABLE_PARSE = /^[a-zA-Z0-9'()+,\-./:=? *&]*$/;
const NUMERIC = /^[0-9 ]*$/;

/** The value of `tlv` as Go's `any` holds it, or undefined when Go refuses it. */
export function parseGoAny(der: Uint8Array, tlv: Tlv): GoAny | undefined {
  const body = contents(der, tlv);
  const latin1 = (): string => body.toString("latin1");
  switch (tlv.tag) {
    case TAG.OCTET_STRING:
      return { kind: "raw", der: whole(der, tlv) };
    case TAG.OID:
      return validOid(der, tlv) ? { kind: "raw", der: whole(der, tlv) } : undefined;
    case TAG.INTEGER: {
      if (body.length === 0 || body.length > 8) return undefined;
      const b0 = body[0] as number;
      const b1 = body[1];
      if (b1 !== undefined && ((b0 === 0 && (b1 & 0x80) === 0) || (b0 === 0xff && (b1 & 0x80) !== 0))) {
        return undefined;
      }
      return { kind: "raw", der: whole(der, tlv) };
    }
    case TAG.BIT_STRING:
      return validBitStringBody(body) ? { kind: "raw", der: whole(der, tlv) } : undefined;
    case TAG.PRINTABLE_STRING:
      return PRINTABLE_PARSE.test(latin1()) ? { kind: "string", value: latin1() } : undefined;
    case TAG.NUMERIC_STRING:
      return NUMERIC.test(latin1()) ? { kind: "string", value: latin1() } : undefined;
    case TAG.IA5_STRING:
      return body.every((b) => b < 0x80) ? { kind: "string", value: latin1() } : undefined;
    case TAG.T61_STRING:
      return utf8(body) ?? { kind: "invalid-utf8" };
    case TAG.UTF8_STRING:
      return utf8(body);
    case TAG.BMP_STRING: {
      if (body.length % 2 !== 0) return undefined;
      let s = "";
      for (let i = 0; i < body.length; i += 2) s += String.fromCharCode(body.readUInt16BE(i));
      if (s.endsWith("\u0000")) s = s.slice(0, -1);
      return { kind: "string", value: s };
    }
    case TAG.UTC_TIME:
    case TAG.GENERALIZED_TIME: {
      const time = parseAsn1Time(latin1(), tlv.tag === TAG.UTC_TIME);
      return time === null ? undefined : { kind: "time", time };
    }
    default:
      return { kind: "nil" };
  }
}

function utf8(body: Buffer): GoAny | undefined {
  const s = body.toString("utf8");
  return Buffer.from(s, "utf8").equals(body) ? { kind: "string", value: s } : undefined;
}

/**
 * parseUTCTime (YYMMDDhhmm[ss]Z|±hhmm, years 1950..2049) or
 * parseGeneralizedTime (YYYYMMDDhhmmssZ|±hhmm, no fraction): the fields
 * Go's time.Parse accepts (real dates, zone minutes < 60, no ±0000).
 */
export function parseAsn1Time(s: string, utc: boolean): Asn1Time | null {
  const m = utc
    ? /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?(Z|[+-]\d{4})$/.exec(s)
    : /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(Z|[+-]\d{4})$/.exec(s);
  if (m === null) return null;
  let year = Number(m[1]);
  if (utc) year += year >= 50 ? 1900 : 2000;
  const [month, day, hour, minute] = [Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])];
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const zone = m[7] as string;
  const daysInMonth = new Date(Date.UTC(2000, month, 0)).getUTCDate();
  const leapFix = month === 2 && day === 29 && !(year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0));
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || leapFix) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  if (zone !== "Z" && (Number(zone.slice(3)) > 59 || zone === "+0000" || zone === "-0000")) return null;
  return { year, month, day, hour, minute, second, zone };
}
