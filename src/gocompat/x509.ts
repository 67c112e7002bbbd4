import {
  contents,
  DerCursor,
  DerError,
  decodeOid,
  leadingChildren,
  readTlv,
  rightAlign,
  TAG,
  type Tlv,
  validBitStringBody,
  validInteger,
  validOid,
  whole,
} from "../crypto/der.ts";
import { ecPointOnCurve, POINT_CHECK_CURVES } from "../crypto/key-rebuild.ts";
import { PRINTABLE_PARSE, parseAsn1Time } from "./asn1.ts";
import { checkSanExtension } from "./x509-san.ts";

/**
 * Go's x509.ParseCertificate (crypto/x509/parser.go), the checks and the
 * messages: strict DER framing, version, serial, matching inner and outer
 * signature algorithms, names of string values, validity times, the public
 * key (parsePublicKey), unique IDs, extensions (no duplicates) and the
 * extensions Go interprets (key usage, basic constraints, SAN, SKI, AKI,
 * extended key usage); name constraints, CRL distribution points, policies
 * and AIA are only framed. Failures are DerErrors carrying Go's text.
 */

export const OID_RSA = "1.2.840.113549.1.1.1";
export const OID_EC = "1.2.840.10045.2.1";
export const OID_ED25519 = "1.3.101.112";
const OID_X25519 = "1.3.101.110";
const OID_DSA = "1.2.840.10040.4.1";
const TAGS_DONT_MATCH = "asn1: structure error: tags don't match";

export interface ParsedCertificate {
  raw: Buffer;
  basicConstraintsValid: boolean;
  isCA: boolean;
  /** Go's x509.PublicKeyAlgorithm name ("RSA", "DSA", "ECDSA", "Ed25519", "0" unknown). */
  publicKeyAlgorithm: string;
  spki: Buffer;
}

const PK_ALGORITHM: Record<string, string> = {
  [OID_RSA]: "RSA",
  [OID_DSA]: "DSA",
  [OID_EC]: "ECDSA",
  [OID_ED25519]: "Ed25519",
};

function fail(m: string): never {
  throw new DerError(`x509: ${m}`);
}

/** A BIT STRING with a valid body (unused-bits octet 0-7, those bits zero); a CSR's signature too. */
export const validBitString = (der: Uint8Array, t: Tlv): boolean =>
  t.tag === TAG.BIT_STRING && validBitStringBody(der.subarray(t.contentStart, t.end));

/** A DER BOOLEAN: one octet, 0x00 or 0xff. */
const validBoolean = (der: Uint8Array, b: Tlv | null): b is Tlv =>
  b !== null && b.end - b.contentStart === 1 && (der[b.contentStart] === 0 || der[b.contentStart] === 0xff);

/** pkix.AlgorithmIdentifier as asn1.Unmarshal reads it: the OID (dotted) and the optional parameters. */
export function algorithmIdentifier(der: Uint8Array, tlv: Tlv): [string, Tlv | undefined] {
  if (tlv.tag !== TAG.SEQUENCE) throw new DerError(TAGS_DONT_MATCH);
  const [oid, params] = leadingChildren(der, tlv, 2);
  if (oid === undefined || !validOid(der, oid)) throw new DerError(TAGS_DONT_MATCH);
  return [decodeOid(contents(der, oid)), params];
}

/** The SPKI's algorithm TLV and key BIT STRING; a framing error as Go's struct rule gives it. */
function spkiParts(der: Uint8Array, spki: Tlv): [Tlv, Tlv] {
  if (spki.tag !== TAG.SEQUENCE) throw new DerError(TAGS_DONT_MATCH);
  const [alg, key] = leadingChildren(der, spki, 2);
  if (alg === undefined || key === undefined) throw new DerError("asn1: syntax error: sequence truncated");
  return [alg, key];
}

/** parsePublicKey for the algorithms Go knows (RSA, ECDSA on its four curves, Ed25519, X25519). */
export function checkPublicKey(der: Uint8Array, spki: Tlv): void {
  const [alg, key] = spkiParts(der, spki);
  const [oid, params] = algorithmIdentifier(der, alg);
  if (!validBitString(der, key)) throw new DerError(TAGS_DONT_MATCH);
  const bits = rightAlign(contents(der, key));
  switch (oid) {
    case OID_RSA:
      if (params === undefined || params.tag !== TAG.NULL || params.end !== params.contentStart) {
        throw new DerError("x509: RSA key missing NULL parameters");
      }
      checkRsaPublicKey(bits);
      return;
    case OID_EC: {
      if (params === undefined || !validOid(der, params))
        throw new DerError("x509: invalid ECDSA parameters");
      const curve = decodeOid(contents(der, params));
      if (!POINT_CHECK_CURVES.includes(curve)) throw new DerError("x509: unsupported elliptic curve");
      if (!ecPointOnCurve(curve, bits)) throw new DerError("x509: failed to unmarshal elliptic curve point");
      return;
    }
    case OID_ED25519:
    case OID_X25519: {
      const name = oid === OID_ED25519 ? "Ed25519" : "X25519";
      if (params !== undefined) throw new DerError(`x509: ${name} key encoded with illegal parameters`);
      if (bits.length !== 32) throw new DerError(`x509: wrong ${name} public key size`);
      return;
    }
    default:
      return;
  }
}

/** The RSA case of parsePublicKey: SEQUENCE { INTEGER N, INTEGER E }, both positive, E an int64. */
function checkRsaPublicKey(bits: Buffer): void {
  let seq: Tlv;
  try {
    seq = readTlv(bits, 0);
  } catch {
    throw new DerError("x509: invalid RSA public key");
  }
  if (seq.tag !== TAG.SEQUENCE) throw new DerError("x509: invalid RSA public key");
  const read = (offset: number, message: string): Tlv => {
    try {
      const t = readTlv(bits, offset, seq.end);
      if (!validInteger(bits, t)) throw new DerError(message);
      return t;
    } catch {
      throw new DerError(message);
    }
  };
  const n = read(seq.contentStart, "x509: invalid RSA modulus");
  const e = read(n.end, "x509: invalid RSA public exponent");
  if (e.end - e.contentStart > 8) throw new DerError("x509: invalid RSA public exponent");
  const positive = (t: Tlv): boolean =>
    ((bits[t.contentStart] as number) & 0x80) === 0 &&
    !(t.end - t.contentStart === 1 && bits[t.contentStart] === 0);
  if (!positive(n)) throw new DerError("x509: RSA modulus is not a positive number");
  if (!positive(e)) throw new DerError("x509: RSA public exponent is not a positive number");
}

/**
 * A comparable form of an SPKI's key as Go holds it once parsed (N and E;
 * the curve and point; the Ed25519 bytes), for the key-match check. The
 * SPKI must have passed checkPublicKey.
 */
export function publicKeyValue(spki: Uint8Array): string {
  const [alg, key] = spkiParts(spki, readTlv(spki, 0));
  const [oid, params] = algorithmIdentifier(spki, alg);
  const bits = rightAlign(contents(spki, key));
  if (oid === OID_RSA) {
    const seq = readTlv(bits, 0);
    const n = readTlv(bits, seq.contentStart, seq.end);
    const e = readTlv(bits, n.end, seq.end);
    const strip = (t: Tlv): string =>
      contents(bits, t)
        .toString("hex")
        .replace(/^(00)+/, "");
    return `rsa:${strip(n)}:${strip(e)}`;
  }
  const curve = params !== undefined && params.tag === TAG.OID ? decodeOid(contents(spki, params)) : "";
  return `${oid}:${curve}:${bits.toString("hex")}`;
}

/** x509.ParseCertificate. */
export function parseCertificate(der: Buffer): ParsedCertificate {
  const top = DerCursor.of(der);
  const certTlv = top.read(TAG.SEQUENCE) ?? fail("malformed certificate");
  const cert = DerCursor.of(der, certTlv);
  const tbsTlv = cert.read(TAG.SEQUENCE) ?? fail("malformed tbs certificate");
  const tbs = DerCursor.of(der, tbsTlv);
  const version = parseVersion(der, tbs);
  const serial = tbs.read(TAG.INTEGER);
  if (serial === null || !validInteger(der, serial)) fail("malformed serial number");
  // Go >= 1.23, which Vault is built with, refuses negative serials (GODEBUG x509negativeserial=0).
  if (((der[serial.contentStart] as number) & 0x80) !== 0) fail("negative serial number");
  const sigAI = tbs.read(TAG.SEQUENCE) ?? fail("malformed signature algorithm identifier");
  const outerAI = cert.read(TAG.SEQUENCE) ?? fail("malformed algorithm identifier");
  if (!contents(der, sigAI).equals(contents(der, outerAI))) {
    fail("inner and outer signature algorithm identifiers don't match");
  }
  parseAI(der, sigAI);
  parseName(der, tbs.read(TAG.SEQUENCE) ?? fail("malformed issuer"));
  parseValidity(der, tbs.read(TAG.SEQUENCE) ?? fail("malformed validity"));
  parseName(der, tbs.read(TAG.SEQUENCE) ?? fail("malformed issuer"));
  const spkiTlv = tbs.read(TAG.SEQUENCE) ?? fail("malformed spki");
  const spki = DerCursor.of(der, spkiTlv);
  const algOid = parseAI(der, spki.read(TAG.SEQUENCE) ?? fail("malformed public key algorithm identifier"));
  const key = spki.read(TAG.BIT_STRING);
  if (key === null || !validBitString(der, key)) fail("malformed subjectPublicKey");
  checkPublicKey(der, spkiTlv);
  let bc: boolean | null = null;
  if (version + 1 > 1) {
    for (const [tag, name] of [
      [0x81, "issuerUniqueID"],
      [0x82, "subjectUniqueID"],
    ] as const) {
      if (tbs.peek(tag) && tbs.readAny() === null) fail(`malformed ${name}`);
    }
    if (version + 1 === 3 && tbs.peek(0xa3)) bc = parseExtensions(der, tbs.readAny());
  }
  const sig = cert.read(TAG.BIT_STRING);
  if (sig === null || !validBitString(der, sig)) fail("malformed signature");
  // ParseCertificate: only a certificate that parsed can have trailing data.
  if (certTlv.end !== der.length) fail("trailing data");
  return {
    raw: der,
    basicConstraintsValid: bc !== null,
    isCA: bc === true,
    publicKeyAlgorithm: PK_ALGORITHM[algOid] ?? "0",
    spki: whole(der, spkiTlv),
  };
}

/** The [0] EXPLICIT version: 0..2 as Go reads it (an int64 that is not negative). */
function parseVersion(der: Buffer, tbs: DerCursor): number {
  let version = 0;
  if (tbs.peek(0xa0)) {
    const v = tbs.read(0xa0) ?? fail("malformed version");
    const inner = DerCursor.of(der, v);
    const int = inner.read(TAG.INTEGER);
    if (int === null || !inner.empty() || !validInteger(der, int) || int.end - int.contentStart > 8) {
      fail("malformed version");
    }
    const body = contents(der, int);
    if (((body[0] as number) & 0x80) !== 0) fail("malformed version");
    version = body.length > 1 ? 99 : (body[0] as number);
  }
  if (version + 1 > 3) fail("invalid version");
  return version;
}

function parseValidity(der: Buffer, validity: Tlv): void {
  const times = DerCursor.of(der, validity);
  for (let i = 0; i < 2; i++) {
    if (!times.peek(TAG.UTC_TIME) && !times.peek(TAG.GENERALIZED_TIME)) fail("unsupported time format");
    const utc = times.peek(TAG.UTC_TIME);
    const t = times.readAny();
    if (t === null || !certTime(contents(der, t).toString("latin1"), utc)) {
      fail(utc ? "malformed UTCTime" : "malformed GeneralizedTime");
    }
  }
}

/** The extensions: each framed, none twice, the known ones checked; basic constraints' isCA or null. */
function parseExtensions(der: Buffer, wrapper: Tlv | null): boolean | null {
  if (wrapper === null) fail("malformed extensions");
  const seq = DerCursor.of(der, wrapper).read(TAG.SEQUENCE) ?? fail("malformed extensions");
  const exts = DerCursor.of(der, seq);
  const seen = new Set<string>();
  let bc: boolean | null = null;
  while (!exts.empty()) {
    const c = DerCursor.of(der, exts.read(TAG.SEQUENCE) ?? fail("malformed extension"));
    const oid = c.read(TAG.OID);
    if (oid === null || !validOid(der, oid)) fail("malformed extension OID field");
    if (c.peek(TAG.BOOLEAN) && !validBoolean(der, c.readAny())) fail("malformed extension critical field");
    const value = c.read(TAG.OCTET_STRING) ?? fail("malformed extension value field");
    const id = decodeOid(contents(der, oid));
    if (seen.has(id)) fail("certificate contains duplicate extensions");
    seen.add(id);
    const isCA = processExtension(id, contents(der, value));
    if (isCA !== null) bc = isCA;
  }
  return bc;
}

/** parseAI: the algorithm OID, then optional parameters of any kind. */
function parseAI(der: Buffer, ai: Tlv): string {
  const c = DerCursor.of(der, ai);
  const oid = c.read(TAG.OID);
  if (oid === null || !validOid(der, oid)) fail("malformed OID");
  if (!c.empty() && c.readAny() === null) fail("malformed parameters");
  return decodeOid(contents(der, oid));
}

/** parseName: RDNs of attributes whose values are strings of a kind Go knows. */
function parseName(der: Buffer, name: Tlv): void {
  const rdns = DerCursor.of(der, name);
  while (!rdns.empty()) {
    const atvs = DerCursor.of(der, rdns.read(TAG.SET) ?? fail("invalid RDNSequence"));
    while (!atvs.empty()) {
      const c = DerCursor.of(der, atvs.read(TAG.SEQUENCE) ?? fail("invalid RDNSequence: invalid attribute"));
      const oid = c.read(TAG.OID);
      if (oid === null || !validOid(der, oid)) fail("invalid RDNSequence: invalid attribute type");
      const value = c.readAny() ?? fail("invalid RDNSequence: invalid attribute value");
      const why = asn1StringError(value.tag, contents(der, value));
      if (why !== null) fail(`invalid RDNSequence: invalid attribute value: ${why}`);
    }
  }
}

/** parseASN1String's verdict: null when Go takes the value. */
function asn1StringError(tag: number, v: Buffer): string | null {
  switch (tag) {
    case TAG.T61_STRING:
      return null;
    case TAG.PRINTABLE_STRING:
      return PRINTABLE_PARSE.test(v.toString("latin1")) ? null : "invalid PrintableString";
    case TAG.UTF8_STRING:
      return Buffer.from(v.toString("utf8"), "utf8").equals(v) ? null : "invalid UTF-8 string";
    case TAG.BMP_STRING:
      return v.length % 2 === 0 ? null : "invalid BMPString";
    case TAG.IA5_STRING:
      return v.every((b) => b < 0x80) ? null : "invalid IA5String";
    case TAG.NUMERIC_STRING:
      return /^[0-9 ]*$/.test(v.toString("latin1")) ? null : "invalid NumericString";
    default:
      return `unsupported string type: ${tag}`;
  }
}

/** cryptobyte's UTCTime (seconds optional) and GeneralizedTime (fraction without trailing zeros). */
function certTime(s: string, utc: boolean): boolean {
  const m = utc
    ? /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?(Z|[+-]\d{4})$/.exec(s)
    : /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(?:\.\d{0,8}[1-9])?(Z|[+-]\d{4})$/.exec(s);
  if (m === null) return false;
  // The field checks are encoding/asn1's; GeneralizedTime's once the fraction is gone.
  return parseAsn1Time(utc ? s : s.replace(/\.\d+/, ""), utc) !== null;
}

/** processExtensions for one extension: isCA for basic constraints, null for the others; Go's errors. */
function processExtension(id: string, v: Buffer): boolean | null {
  const c = DerCursor.of(v);
  switch (id) {
    case "2.5.29.15": {
      const bits = c.read(TAG.BIT_STRING);
      if (bits === null || !validBitString(v, bits)) fail("invalid key usage");
      return null;
    }
    case "2.5.29.19": {
      const inner = DerCursor.of(v, c.read(TAG.SEQUENCE) ?? fail("invalid basic constraints a"));
      let ca = false;
      if (inner.peek(TAG.BOOLEAN)) {
        const b = inner.readAny();
        if (!validBoolean(v, b)) fail("invalid basic constraints b");
        ca = v[b.contentStart] === 0xff;
      }
      if (inner.peek(TAG.INTEGER)) {
        const n = inner.readAny();
        if (n === null || !validInteger(v, n) || n.end - n.contentStart > 8)
          fail("invalid basic constraints c");
      }
      return ca;
    }
    case "2.5.29.17":
      checkSanExtension(v);
      return null;
    case "2.5.29.14":
      if (c.read(TAG.OCTET_STRING) === null) fail("invalid subject key identifier");
      return null;
    case "2.5.29.35": {
      const inner = DerCursor.of(v, c.read(TAG.SEQUENCE) ?? fail("invalid authority key identifier"));
      if (inner.peek(0x80) && inner.readAny() === null) fail("invalid authority key identifier");
      return null;
    }
    case "2.5.29.37": {
      const inner = DerCursor.of(v, c.read(TAG.SEQUENCE) ?? fail("invalid extended key usages"));
      while (!inner.empty()) {
        const oid = inner.read(TAG.OID);
        if (oid === null || !validOid(v, oid)) fail("invalid extended key usages");
      }
      return null;
    }
    default:
      return null;
  }
}
