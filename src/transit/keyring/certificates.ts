import { ECDH, type KeyObject, sign as nodeSign } from "node:crypto";
import {
  children,
  contents,
  DerError,
  encodeBitString,
  encodeOid,
  encodeTlv,
  leadingChildren,
  readTlv,
  TAG,
  type Tlv,
  whole,
} from "../../crypto/der.ts";
import { goError, invalidRequest, LogicalError, userError } from "../../framework/errors.ts";
import { privateKeyMissing, privateKeyObject, publicKeyObject } from "./asymmetric.ts";
import { goPemDecode, goTrimSpace } from "./go-pem.ts";
import { pemEncode } from "./key-encodings.ts";
import { isEcdsa, isRsa, type KeyType, signingSupported } from "./key-types.ts";
import type { Keyring, KeyVersion } from "./keyring.ts";

/**
 * Certificates of asymmetric keys (keysutil CreateCsr,
 * ValidateLeafCertKeyMatch, ValidateAndPersistCertificateChain; transit
 * path_certificates.go parseCsr / parseCertificateChain).
 *
 * A CSR is built as Go's x509.CreateCertificateRequest builds it from the
 * template Vault parsed with x509.ParseCertificateRequest: the template's
 * raw subject, its attributes as Go's pkix.AttributeTypeAndValueSET keeps
 * them (attributes of another shape, such as challengePassword, dropped;
 * values re-encoded as Go's encoding/asn1 does; a value Go cannot hold,
 * such as an extension's critical flag, fails the request with Go's
 * "asn1: cannot marshal nil value"), the key version's public key and Go's
 * default signature algorithm for it (SHA256WithRSA, ECDSA with SHA-256 /
 * SHA-384 / SHA-512 by curve, pure Ed25519).
 *
 * Templates and certificates are parsed here as Go parses them (its
 * encoding/asn1 and crypto/x509 rules and messages), on a small DER reader:
 * the tests check accept/refuse decisions, texts and output bytes against
 * Go's own code on thousands of mutated inputs.
 */

/** A value Go parses but then refuses to marshal, with Go's error. */
interface Unmarshalable {
  error: string;
}

/** What Go's `any` field holds for a type it does not know: nil. */
const NIL: Unmarshalable = { error: "asn1: cannot marshal nil value" };

interface GoAtv {
  type: Buffer;
  value: Buffer | Unmarshalable;
}

interface GoAttribute {
  type: Buffer;
  values: GoAtv[][];
}

export interface CsrTemplate {
  subject: Buffer;
  attributes: GoAttribute[];
}

const EMPTY_SUBJECT = Buffer.from("3000", "hex");
const OID_RSA = "1.2.840.113549.1.1.1";
const OID_EC = "1.2.840.10045.2.1";
const OID_ED25519 = "1.3.101.112";
const OID_DSA = "1.2.840.10040.4.1";

// ---------------------------------------------------------------- templates

/** transit parseCsr: an empty template for "", else the first PEM block as a PKCS #10 request. */
export function parseCsrTemplate(text: string): CsrTemplate {
  if (text === "") return { subject: EMPTY_SUBJECT, attributes: [] };
  const block = goPemDecode(text);
  if (block === null) throw invalidRequest("could not decode PEM certificate request");
  const der = block.bytes;
  let subject: Buffer;
  let rawAttributes: Tlv[];
  try {
    const outer = readTlv(der, 0);
    if (outer.tag !== TAG.SEQUENCE) throw new DerError(TAGS_DONT_MATCH);
    if (outer.end !== der.length) throw new DerError("asn1: syntax error: trailing data");
    // Go's struct rule: elements after the last field are ignored.
    const [info, sigAlg, sig] = fields(der, outer, 3);
    if (info.tag !== TAG.SEQUENCE || sig.tag !== TAG.BIT_STRING || !validBitString(der, sig)) {
      throw new DerError(TAGS_DONT_MATCH);
    }
    algorithmIdentifier(der, sigAlg);
    const [version, name, spki, attrs] = fields(der, info, 4);
    if (!validInteger(der, version) || name.tag !== TAG.SEQUENCE || attrs.tag !== 0xa0) {
      throw new DerError(TAGS_DONT_MATCH);
    }
    subject = whole(der, name);
    rawAttributes = children(der, attrs);
    // What else Go's ParseCertificateRequest checks: the public key of a
    // known algorithm, the subject's RDNs, the requested extensions (SAN).
    checkPublicKey(der, spki);
    checkRdnSequence(der, name);
    checkRequestedExtensions(der, rawAttributes);
  } catch (e) {
    if (e instanceof DerError) throw invalidRequest(e.message);
    throw e;
  }
  const attributes: GoAttribute[] = [];
  for (const raw of rawAttributes) {
    const attr = goAttribute(der, raw);
    if (attr !== null) attributes.push(attr);
  }
  return { subject, attributes };
}

const TAGS_DONT_MATCH = "asn1: structure error: tags don't match";
const OID_X25519 = "1.3.101.110";
const OID_EXTENSION_REQUEST = "1.2.840.113549.1.9.14";
const OID_SAN = "2.5.29.17";

/**
 * The first `n` (at most 4) elements of a SEQUENCE, Go's struct rule:
 * later ones are ignored, missing ones an error. Destructure only `n`.
 */
function fields(der: Buffer, tlv: Tlv, n: 2 | 3 | 4): [Tlv, Tlv, Tlv, Tlv] {
  const all = leadingChildren(der, tlv, n);
  if (all.length < n) throw new DerError("asn1: syntax error: sequence truncated");
  return all as [Tlv, Tlv, Tlv, Tlv];
}

function validInteger(der: Buffer, tlv: Tlv): boolean {
  if (tlv.tag !== TAG.INTEGER || tlv.end === tlv.contentStart) return false;
  const b0 = der[tlv.contentStart] as number;
  const b1 = tlv.end - tlv.contentStart > 1 ? der[tlv.contentStart + 1] : undefined;
  return !(b1 !== undefined && ((b0 === 0 && (b1 & 0x80) === 0) || (b0 === 0xff && (b1 & 0x80) !== 0)));
}

function validBitString(der: Buffer, tlv: Tlv): boolean {
  const body = contents(der, tlv);
  const pad = body[0];
  if (pad === undefined || pad > 7 || (body.length === 1 && pad > 0)) return false;
  return ((body[body.length - 1] as number) & ((1 << pad) - 1)) === 0;
}

/** pkix.AlgorithmIdentifier: the OID (dotted) and the optional parameters. */
function algorithmIdentifier(der: Buffer, tlv: Tlv): [string, Tlv | undefined] {
  if (tlv.tag !== TAG.SEQUENCE) throw new DerError(TAGS_DONT_MATCH);
  const [oid, params] = leadingChildren(der, tlv, 2);
  if (oid === undefined || !validOid(der, oid)) throw new DerError(TAGS_DONT_MATCH);
  return [decodeOid(contents(der, oid)), params];
}

/** Go's parsePublicKey for the algorithms it knows (RSA, ECDSA on its four curves, Ed25519, X25519). */
function checkPublicKey(der: Buffer, spki: Tlv): void {
  if (spki.tag !== TAG.SEQUENCE) throw new DerError(TAGS_DONT_MATCH);
  const [alg, key] = fields(der, spki, 2);
  const [oid, params] = algorithmIdentifier(der, alg);
  if (key.tag !== TAG.BIT_STRING || !validBitString(der, key)) throw new DerError(TAGS_DONT_MATCH);
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
      if (!GO_CURVES.includes(curve)) throw new DerError("x509: unsupported elliptic curve");
      if (!onCurve(curve, bits)) throw new DerError("x509: failed to unmarshal elliptic curve point");
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

/** asn1.BitString.RightAlign: the bits shifted right by the unused-bits count (the first octet). */
function rightAlign(body: Buffer): Buffer {
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

/** Go's RSA case of parsePublicKey: SEQUENCE { INTEGER N, INTEGER E }, both positive, E an int64. */
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

/** asn1.Unmarshal into pkix.RDNSequence: SEQUENCE OF SET OF SEQUENCE { OID, ANY }. */
function checkRdnSequence(der: Buffer, name: Tlv): void {
  for (const rdn of children(der, name)) {
    if (rdn.tag !== TAG.SET) throw new DerError(TAGS_DONT_MATCH);
    for (const atv of children(der, rdn)) {
      if (atv.tag !== TAG.SEQUENCE) throw new DerError(TAGS_DONT_MATCH);
      const [oid, value] = fields(der, atv, 2);
      if (!validOid(der, oid)) throw new DerError(TAGS_DONT_MATCH);
      if (goAnyValue(der, value) === undefined)
        throw new DerError("asn1: syntax error: invalid value in the subject");
    }
  }
}

/**
 * Go's parseCSRExtensions and parseSANExtension: the first value of each
 * extensionRequest attribute must be a SEQUENCE OF Extension, no extension
 * requested twice, subject alternative names well formed. Attributes of
 * another shape are ignored.
 */
function checkRequestedExtensions(der: Buffer, rawAttributes: Tlv[]): void {
  const seen = new Set<string>();
  for (const raw of rawAttributes) {
    let first: Tlv | undefined;
    try {
      if (raw.tag !== TAG.SEQUENCE) continue;
      const [oid, set] = fields(der, raw, 2);
      if (!validOid(der, oid) || set.tag !== TAG.SET) continue;
      if (decodeOid(contents(der, oid)) !== OID_EXTENSION_REQUEST) continue;
      [first] = children(der, set);
    } catch (e) {
      if (e instanceof DerError) continue;
      throw e;
    }
    if (first === undefined) continue;
    if (first.tag !== TAG.SEQUENCE) throw new DerError(TAGS_DONT_MATCH);
    for (const ext of children(der, first)) {
      if (ext.tag !== TAG.SEQUENCE) throw new DerError(TAGS_DONT_MATCH);
      let parts = leadingChildren(der, ext, 2);
      if (parts[1]?.tag === TAG.BOOLEAN) parts = leadingChildren(der, ext, 3);
      const [oid] = parts;
      if (oid === undefined || !validOid(der, oid)) throw new DerError(TAGS_DONT_MATCH);
      let i = 1;
      if (parts[i]?.tag === TAG.BOOLEAN) i++;
      const value = parts[i];
      if (value === undefined || value.tag !== TAG.OCTET_STRING) throw new DerError(TAGS_DONT_MATCH);
      const id = decodeOid(contents(der, oid));
      if (seen.has(id))
        throw new DerError("x509: certificate request contains duplicate requested extensions");
      seen.add(id);
      if (id === OID_SAN) checkSan(contents(der, value));
    }
  }
}

function checkSan(san: Buffer): void {
  let seq: Tlv;
  try {
    seq = readTlv(san, 0);
    if (seq.tag !== TAG.SEQUENCE) throw new DerError("");
  } catch {
    throw new DerError("x509: invalid subject alternative names");
  }
  let names: Tlv[];
  try {
    names = children(san, seq);
  } catch {
    throw new DerError("x509: invalid subject alternative name");
  }
  const ia5 = (t: Tlv): boolean => contents(san, t).every((b) => b < 0x80);
  for (const n of names) {
    // Go's tag^0x80: context-specific, primitive, tags 1, 2, 6, 7; anything else is skipped.
    switch (n.tag ^ 0x80) {
      case 1:
        if (!ia5(n)) throw new DerError("x509: SAN rfc822Name is malformed");
        break;
      case 2:
        if (!ia5(n)) throw new DerError("x509: SAN dNSName is malformed");
        break;
      case 6:
        if (!ia5(n)) throw new DerError("x509: SAN uniformResourceIdentifier is malformed");
        checkUri(contents(san, n).toString("latin1"));
        break;
      case 7: {
        const len = n.end - n.contentStart;
        if (len !== 4 && len !== 16) throw new DerError(`x509: cannot parse IP address of length ${len}`);
        break;
      }
    }
  }
}

/** Go's %q of an ASCII string (strconv.Quote). */
function goQuote(s: string): string {
  const named: Record<string, string> = {
    "\x07": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    '"': '\\"',
    "\\": "\\\\",
  };
  let out = "";
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    out += named[ch] ?? (c < 0x20 || c === 0x7f ? `\\x${c.toString(16).padStart(2, "0")}` : ch);
  }
  return `"${out}"`;
}

/**
 * The URI checks of Go's parseSANExtension, approximated: url.Parse's
 * control characters and host characters, then domainToReverseLabels on
 * the host (port included, as Go does).
 */
function checkUri(uri: string): void {
  const fail = (why: string): never => {
    throw new DerError(`x509: cannot parse URI ${goQuote(uri)}: ${why}`);
  };
  if ([...uri].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
    fail(`parse ${goQuote(uri)}: net/url: invalid control character in URL`);
  }
  let rest = uri.split("#")[0] ?? "";
  if (rest.startsWith(":")) fail(`parse ${goQuote(uri)}: missing protocol scheme`);
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(rest);
  if (scheme !== null) rest = rest.slice(scheme[0].length);
  rest = rest.split("?")[0] ?? "";
  if (scheme === null && !rest.startsWith("/") && (rest.split("/")[0] ?? "").includes(":")) {
    fail(`parse ${goQuote(uri)}: first path segment in URL cannot contain colon`);
  }
  if (!rest.startsWith("//")) return;
  const authority = rest.slice(2).split("/")[0] ?? "";
  const host = authority.slice(authority.lastIndexOf("@") + 1);
  const bad = /[^A-Za-z0-9\-_.~!$&'()*+,;=:[\]<>"%]/.exec(host);
  if (bad !== null) fail(`parse ${goQuote(uri)}: invalid character ${goQuote(bad[0])} in host name`);
  if (host.length === 0) return;
  const labels = host.split(".");
  if (labels.some((l) => l.length === 0) || /[^\x21-\x7e]/.test(host)) fail("invalid domain");
}

/**
 * asn1.Unmarshal into pkix.AttributeTypeAndValueSET: SEQUENCE { OID,
 * SET OF SEQUENCE OF SEQUENCE { OID, ANY } }, extra trailing elements
 * allowed (Go's struct rule); null when it does not fit (Go drops it).
 */
function goAttribute(der: Buffer, raw: Tlv): GoAttribute | null {
  try {
    if (raw.tag !== TAG.SEQUENCE) return null;
    const [type, set] = leadingChildren(der, raw, 2);
    if (type === undefined || set === undefined || !validOid(der, type) || set.tag !== TAG.SET) return null;
    const values: GoAtv[][] = [];
    for (const seq of children(der, set)) {
      if (seq.tag !== TAG.SEQUENCE) return null;
      const atvs: GoAtv[] = [];
      for (const atv of children(der, seq)) {
        if (atv.tag !== TAG.SEQUENCE) return null;
        const [oid, value] = leadingChildren(der, atv, 2);
        if (oid === undefined || value === undefined || !validOid(der, oid)) return null;
        const encoded = goAnyValue(der, value);
        if (encoded === undefined) return null;
        atvs.push({ type: whole(der, oid), value: encoded });
      }
      values.push(atvs);
    }
    return { type: whole(der, type), values };
  } catch (e) {
    if (e instanceof DerError) return null;
    throw e;
  }
}

function validOid(der: Buffer, tlv: Tlv): boolean {
  if (tlv.tag !== TAG.OID || tlv.end === tlv.contentStart) return false;
  if (((der[tlv.end - 1] as number) & 0x80) !== 0) return false;
  // Base-128 components are minimal: none starts with 0x80.
  let start = true;
  for (let i = tlv.contentStart; i < tlv.end; i++) {
    const b = der[i] as number;
    if (start && b === 0x80) return false;
    start = (b & 0x80) === 0;
  }
  return true;
}

/**
 * A value parsed into Go's `any` and marshaled back: the encoding Go
 * writes, NIL for what Go leaves nil, undefined when Go's parse fails.
 */
function goAnyValue(der: Buffer, tlv: Tlv): Buffer | Unmarshalable | undefined {
  const body = contents(der, tlv);
  switch (tlv.tag) {
    case TAG.OCTET_STRING:
      return whole(der, tlv);
    case TAG.OID:
      return validOid(der, tlv) ? whole(der, tlv) : undefined;
    case TAG.INTEGER: {
      if (body.length === 0 || body.length > 8) return undefined;
      const b0 = body[0] as number;
      const b1 = body[1];
      if (b1 !== undefined && ((b0 === 0 && (b1 & 0x80) === 0) || (b0 === 0xff && (b1 & 0x80) !== 0))) {
        return undefined;
      }
      return whole(der, tlv);
    }
    case TAG.BIT_STRING: {
      const pad = body[0];
      if (pad === undefined || pad > 7 || (body.length === 1 && pad > 0)) return undefined;
      if (((body[body.length - 1] as number) & ((1 << pad) - 1)) !== 0) return undefined;
      return whole(der, tlv);
    }
    case TAG.PRINTABLE_STRING:
      return /^[a-zA-Z0-9'()+,\-./:=? *&]*$/.test(body.toString("latin1"))
        ? goString(body.toString("latin1"))
        : undefined;
    case TAG.NUMERIC_STRING:
      return /^[0-9 ]*$/.test(body.toString("latin1")) ? goString(body.toString("latin1")) : undefined;
    case TAG.IA5_STRING:
      return body.every((b) => b < 0x80) ? goString(body.toString("latin1")) : undefined;
    case TAG.T61_STRING:
      // Go takes any bytes here, and refuses to marshal them back unless they are UTF-8.
      return goStringBytes(body) ?? { error: "asn1: string not valid UTF-8" };
    case TAG.UTF8_STRING:
      return goStringBytes(body);
    case TAG.BMP_STRING: {
      if (body.length % 2 !== 0) return undefined;
      let s = "";
      for (let i = 0; i < body.length; i += 2) s += String.fromCharCode(body.readUInt16BE(i));
      if (s.endsWith("\u0000")) s = s.slice(0, -1);
      return goString(s);
    }
    case TAG.UTC_TIME:
    case TAG.GENERALIZED_TIME: {
      const t = goTime(body.toString("latin1"), tlv.tag === TAG.UTC_TIME);
      return t === null ? undefined : t;
    }
    default:
      return NIL;
  }
}

/** Go's marshaling of a string: PrintableString when every character allows it, else UTF8String. */
function goString(s: string): Buffer {
  const printable = /^[a-zA-Z0-9'()+,\-./:=? ]*$/.test(s);
  return encodeTlv(printable ? TAG.PRINTABLE_STRING : TAG.UTF8_STRING, Buffer.from(s, "utf8"));
}

/** UTF8String/T61String bytes as a Go string; undefined when they are not UTF-8. */
function goStringBytes(body: Buffer): Buffer | undefined {
  const s = body.toString("utf8");
  if (!Buffer.from(s, "utf8").equals(body)) return undefined;
  return goString(s);
}

/**
 * UTCTime (YYMMDDhhmm[ss]Z|±hhmm) or GeneralizedTime (YYYYMMDDhhmmssZ|±hhmm)
 * as Go parses it, marshaled back: UTCTime for 1950..2049, with seconds.
 */
function goTime(s: string, utc: boolean): Buffer | null {
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
  const two = (n: number): string => String(n).padStart(2, "0");
  const tail = `${two(month)}${two(day)}${two(hour)}${two(minute)}${two(second)}${zone}`;
  if (year >= 1950 && year < 2050) return encodeTlv(TAG.UTC_TIME, Buffer.from(`${two(year % 100)}${tail}`));
  return encodeTlv(TAG.GENERALIZED_TIME, Buffer.from(`${String(year).padStart(4, "0")}${tail}`));
}

/** Go's newRawAttributes: SET OF elements sorted by their encodings (DER). */
function encodeAttribute(attr: GoAttribute): Buffer {
  const sets = attr.values.map((atvs) =>
    encodeTlv(
      TAG.SEQUENCE,
      ...atvs.map((atv) => {
        if (!Buffer.isBuffer(atv.value)) throw new CsrBuildError(atv.value.error);
        return encodeTlv(TAG.SEQUENCE, atv.type, atv.value);
      }),
    ),
  );
  sets.sort(Buffer.compare);
  return encodeTlv(TAG.SEQUENCE, attr.type, encodeTlv(TAG.SET, ...sets));
}

class CsrBuildError extends Error {}

// ---------------------------------------------------------------- CSR

/** A version as Vault's policy holds it (keysutil safeGetKeyEntry: versions from min_decryption_version). */
export function policyKeyEntry(ring: Keyring, version: number): KeyVersion {
  const entry = version >= ring.minDecryptionVersion ? ring.versions.get(version) : undefined;
  if (entry === undefined) throw userError("no such key version");
  return entry;
}

/** keysutil CreateCsr: the signed request, PEM (pem.EncodeToMemory, trailing newline). */
export function createCsr(ring: Keyring, version: number, template: CsrTemplate): string {
  if (!signingSupported(ring.type)) throw userError(`key type '${ring.type}' does not support signing`);
  const entry = policyKeyEntry(ring, version);
  if (privateKeyMissing(entry)) throw userError("private key not imported for key version selected");
  if (ring.derived && ring.type === "ed25519") {
    throw userError("operation not supported on keys with derivation enabled");
  }
  const key = privateKeyObject(entry);
  const pub = publicKeyObject(entry);
  if (key === null || pub === null) throw userError("private key not imported for key version selected");
  let attributes: Buffer[];
  try {
    attributes = template.attributes.map(encodeAttribute);
  } catch (e) {
    if (e instanceof CsrBuildError) {
      // A plain error in Vault (x509.CreateCertificateRequest's): 500 there, so here too.
      throw goError(`could not create the cerfificate request: ${e.message}`);
    }
    throw e;
  }
  const tbs = encodeTlv(
    TAG.SEQUENCE,
    Buffer.from("020100", "hex"),
    template.subject,
    pub.export({ format: "der", type: "spki" }),
    encodeTlv(0xa0, ...attributes),
  );
  const { algorithm, signature } = signTbs(ring.type, key, tbs);
  const der = encodeTlv(TAG.SEQUENCE, tbs, algorithm, encodeBitString(signature));
  return pemEncode("CERTIFICATE REQUEST", der);
}

/** Go's signingParamsForPublicKey defaults and the signature over the TBS bytes. */
function signTbs(type: KeyType, key: KeyObject, tbs: Buffer): { algorithm: Buffer; signature: Buffer } {
  if (isRsa(type)) {
    return {
      algorithm: encodeTlv(TAG.SEQUENCE, encodeOid("1.2.840.113549.1.1.11"), Buffer.from("0500", "hex")),
      signature: nodeSign("sha256", tbs, key),
    };
  }
  if (isEcdsa(type)) {
    const [oid, hash] =
      type === "ecdsa-p256"
        ? ["1.2.840.10045.4.3.2", "sha256"]
        : type === "ecdsa-p384"
          ? ["1.2.840.10045.4.3.3", "sha384"]
          : ["1.2.840.10045.4.3.4", "sha512"];
    return { algorithm: encodeTlv(TAG.SEQUENCE, encodeOid(oid)), signature: nodeSign(hash, tbs, key) };
  }
  return { algorithm: encodeTlv(TAG.SEQUENCE, encodeOid(OID_ED25519)), signature: nodeSign(null, tbs, key) };
}

// ---------------------------------------------------------------- certificate chains

interface ParsedCertificate {
  raw: Buffer;
  basicConstraintsValid: boolean;
  isCA: boolean;
  /** Go's x509.PublicKeyAlgorithm name ("RSA", "DSA", "ECDSA", "Ed25519", "0" unknown). */
  publicKeyAlgorithm: string;
  spki: Buffer;
}

/**
 * transit parseCertificateChain: every PEM block of the trimmed text must
 * decode; CERTIFICATE (and Vault's "X05 CERTIFICATE") blocks are parsed,
 * others ignored.
 */
export function parseCertificateChain(text: string): ParsedCertificate[] {
  const blocks: Buffer[] = [];
  let rest = goTrimSpace(text);
  while (rest.length > 0) {
    const block = goPemDecode(rest);
    if (block === null) throw invalidRequest("could not decode PEM block in certificate chain");
    rest = block.rest;
    if (block.type === "CERTIFICATE" || block.type === "X05 CERTIFICATE") blocks.push(block.bytes);
  }
  if (blocks.length === 0) {
    throw invalidRequest("provided certificate chain did not contain any valid PEM certificate");
  }
  return blocks.map(parseCertificate);
}

function parseCertificate(der: Buffer): ParsedCertificate {
  try {
    return goParseCertificate(der);
  } catch (e) {
    if (e instanceof DerError)
      throw invalidRequest(`failed to parse certificate in certificate chain: ${e.message}`);
    throw e;
  }
}

/** A cryptobyte.String over a TLV's contents: strict DER reads from the front. */
class Cursor {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
  ) {}

  static of(buf: Buffer, tlv?: Tlv): Cursor {
    return tlv === undefined ? new Cursor(buf, 0, buf.length) : new Cursor(buf, tlv.contentStart, tlv.end);
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

const PK_ALGORITHM: Record<string, string> = {
  [OID_RSA]: "RSA",
  [OID_DSA]: "DSA",
  [OID_EC]: "ECDSA",
  [OID_ED25519]: "Ed25519",
};

/**
 * Go's x509.ParseCertificate (crypto/x509/parser.go), the checks and the
 * messages: strict DER framing, version, serial, matching inner and outer
 * signature algorithms, names of string values, validity times, the public
 * key (parsePublicKey), unique IDs, extensions (no duplicates) and the
 * extensions Go interprets (key usage, basic constraints, SAN, SKI, AKI,
 * extended key usage); name constraints, CRL distribution points, policies
 * and AIA are only framed.
 */
function goParseCertificate(der: Buffer): ParsedCertificate {
  const fail = (m: string): never => {
    throw new DerError(`x509: ${m}`);
  };
  const top = Cursor.of(der);
  const certTlv = top.read(TAG.SEQUENCE) ?? fail("malformed certificate");
  const cert = Cursor.of(der, certTlv);
  const tbsTlv = cert.read(TAG.SEQUENCE) ?? fail("malformed tbs certificate");
  const tbs = Cursor.of(der, tbsTlv);
  let version = 0;
  if (tbs.peek(0xa0)) {
    const v = tbs.read(0xa0) ?? fail("malformed version");
    const inner = Cursor.of(der, v);
    const int = inner.read(TAG.INTEGER);
    if (int === null || !inner.empty() || !validInteger(der, int) || int.end - int.contentStart > 8) {
      fail("malformed version");
    }
    const body = contents(der, int as Tlv);
    if (((body[0] as number) & 0x80) !== 0) fail("malformed version");
    version = body.length > 1 ? 99 : (body[0] as number);
  }
  if (version + 1 > 3) fail("invalid version");
  const serial = tbs.read(TAG.INTEGER);
  if (serial === null || !validInteger(der, serial)) fail("malformed serial number");
  // Go >= 1.23, which Vault is built with, refuses negative serials (GODEBUG x509negativeserial=0).
  if (((der[(serial as Tlv).contentStart] as number) & 0x80) !== 0) fail("negative serial number");
  const sigAI = tbs.read(TAG.SEQUENCE) ?? fail("malformed signature algorithm identifier");
  const outerAI = cert.read(TAG.SEQUENCE) ?? fail("malformed algorithm identifier");
  if (!contents(der, sigAI).equals(contents(der, outerAI))) {
    fail("inner and outer signature algorithm identifiers don't match");
  }
  goParseAI(der, sigAI);
  const issuer = tbs.read(TAG.SEQUENCE) ?? fail("malformed issuer");
  goParseName(der, issuer);
  const validity = tbs.read(TAG.SEQUENCE) ?? fail("malformed validity");
  const times = Cursor.of(der, validity);
  for (let i = 0; i < 2; i++) {
    if (times.peek(TAG.UTC_TIME) || times.peek(TAG.GENERALIZED_TIME)) {
      const utc = times.peek(TAG.UTC_TIME);
      const t = times.readAny();
      if (t === null || !goCertTime(contents(der, t).toString("latin1"), utc)) {
        fail(utc ? "malformed UTCTime" : "malformed GeneralizedTime");
      }
    } else {
      fail("unsupported time format");
    }
  }
  const subject = tbs.read(TAG.SEQUENCE) ?? fail("malformed issuer");
  goParseName(der, subject);
  const spkiTlv = tbs.read(TAG.SEQUENCE) ?? fail("malformed spki");
  const spki = Cursor.of(der, spkiTlv);
  const pkAI = spki.read(TAG.SEQUENCE) ?? fail("malformed public key algorithm identifier");
  const algOid = goParseAI(der, pkAI);
  const key = spki.read(TAG.BIT_STRING);
  if (key === null || !validBitString(der, key)) fail("malformed subjectPublicKey");
  checkPublicKey(der, spkiTlv);
  let basicConstraintsValid = false;
  let isCA = false;
  if (version + 1 > 1) {
    for (const [tag, name] of [
      [0x81, "issuerUniqueID"],
      [0x82, "subjectUniqueID"],
    ] as const) {
      if (tbs.peek(tag) && tbs.readAny() === null) fail(`malformed ${name}`);
    }
    if (version + 1 === 3 && tbs.peek(0xa3)) {
      const wrapper = tbs.readAny() ?? fail("malformed extensions");
      const seq = Cursor.of(der, wrapper).read(TAG.SEQUENCE) ?? fail("malformed extensions");
      const exts = Cursor.of(der, seq);
      const seen = new Set<string>();
      while (!exts.empty()) {
        const ext = exts.read(TAG.SEQUENCE) ?? fail("malformed extension");
        const c = Cursor.of(der, ext);
        const oid = c.read(TAG.OID);
        if (oid === null || !validOid(der, oid)) fail("malformed extension OID field");
        if (c.peek(TAG.BOOLEAN)) {
          const b = c.readAny();
          if (
            b === null ||
            b.end - b.contentStart !== 1 ||
            (der[b.contentStart] !== 0 && der[b.contentStart] !== 0xff)
          ) {
            fail("malformed extension critical field");
          }
        }
        const value = c.read(TAG.OCTET_STRING) ?? fail("malformed extension value field");
        const id = decodeOid(contents(der, oid as Tlv));
        if (seen.has(id)) fail("certificate contains duplicate extensions");
        seen.add(id);
        const bc = goProcessExtension(id, contents(der, value));
        if (bc !== null) {
          basicConstraintsValid = true;
          isCA = bc;
        }
      }
    }
  }
  const sig = cert.read(TAG.BIT_STRING);
  if (sig === null || !validBitString(der, sig)) fail("malformed signature");
  // ParseCertificate: only a certificate that parsed can have trailing data.
  if (certTlv.end !== der.length) fail("trailing data");
  return {
    raw: der,
    basicConstraintsValid,
    isCA,
    publicKeyAlgorithm: PK_ALGORITHM[algOid] ?? "0",
    spki: whole(der, spkiTlv),
  };
}

/** parseAI: the algorithm OID, then optional parameters of any kind. */
function goParseAI(der: Buffer, ai: Tlv): string {
  const c = Cursor.of(der, ai);
  const oid = c.read(TAG.OID);
  if (oid === null || !validOid(der, oid)) throw new DerError("x509: malformed OID");
  if (!c.empty() && c.readAny() === null) throw new DerError("x509: malformed parameters");
  return decodeOid(contents(der, oid));
}

/** parseName: RDNs of attributes whose values are strings of a kind Go knows. */
function goParseName(der: Buffer, name: Tlv): void {
  const rdns = Cursor.of(der, name);
  while (!rdns.empty()) {
    const set = rdns.read(TAG.SET) ?? fail509("invalid RDNSequence");
    const atvs = Cursor.of(der, set);
    while (!atvs.empty()) {
      const atv = atvs.read(TAG.SEQUENCE) ?? fail509("invalid RDNSequence: invalid attribute");
      const c = Cursor.of(der, atv);
      const oid = c.read(TAG.OID);
      if (oid === null || !validOid(der, oid)) fail509("invalid RDNSequence: invalid attribute type");
      const value = c.readAny() ?? fail509("invalid RDNSequence: invalid attribute value");
      const why = goAsn1StringError(value.tag, contents(der, value));
      if (why !== null) fail509(`invalid RDNSequence: invalid attribute value: ${why}`);
    }
  }
}

function fail509(m: string): never {
  throw new DerError(`x509: ${m}`);
}

/** parseASN1String's verdict: null when Go takes the value. */
function goAsn1StringError(tag: number, v: Buffer): string | null {
  switch (tag) {
    case TAG.T61_STRING:
      return null;
    case TAG.PRINTABLE_STRING:
      return /^[a-zA-Z0-9'()+,\-./:=? *&]*$/.test(v.toString("latin1")) ? null : "invalid PrintableString";
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
function goCertTime(s: string, utc: boolean): boolean {
  const m = utc
    ? /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?(Z|[+-]\d{4})$/.exec(s)
    : /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(?:\.\d{0,8}[1-9])?(Z|[+-]\d{4})$/.exec(s);
  if (m === null) return false;
  // The UTCTime path of goTime validates the same fields; GeneralizedTime too once the fraction is gone.
  const plain = utc ? s : s.replace(/\.\d+/, "");
  return goTime(plain, utc) !== null;
}

/**
 * processExtensions for one extension: true/false (isCA) for basic
 * constraints, null for the others; Go's errors for malformed values.
 */
function goProcessExtension(id: string, v: Buffer): boolean | null {
  const c = Cursor.of(v);
  switch (id) {
    case "2.5.29.15": {
      const bits = c.read(TAG.BIT_STRING);
      if (bits === null || !validBitString(v, bits)) fail509("invalid key usage");
      return null;
    }
    case "2.5.29.19": {
      const seq = c.read(TAG.SEQUENCE) ?? fail509("invalid basic constraints a");
      const inner = Cursor.of(v, seq);
      let ca = false;
      if (inner.peek(TAG.BOOLEAN)) {
        const b = inner.readAny();
        if (
          b === null ||
          b.end - b.contentStart !== 1 ||
          (v[b.contentStart] !== 0 && v[b.contentStart] !== 0xff)
        ) {
          fail509("invalid basic constraints b");
        }
        ca = v[(b as Tlv).contentStart] === 0xff;
      }
      if (inner.peek(TAG.INTEGER)) {
        const n = inner.readAny();
        if (n === null || !validInteger(v, n) || n.end - n.contentStart > 8)
          fail509("invalid basic constraints c");
      }
      return ca;
    }
    case "2.5.29.17":
      checkSan(v);
      return null;
    case "2.5.29.14":
      if (c.read(TAG.OCTET_STRING) === null) fail509("invalid subject key identifier");
      return null;
    case "2.5.29.35": {
      const seq = c.read(TAG.SEQUENCE) ?? fail509("invalid authority key identifier");
      const inner = Cursor.of(v, seq);
      if (inner.peek(0x80) && inner.readAny() === null) fail509("invalid authority key identifier");
      return null;
    }
    case "2.5.29.37": {
      const seq = c.read(TAG.SEQUENCE) ?? fail509("invalid extended key usages");
      const inner = Cursor.of(v, seq);
      while (!inner.empty()) {
        const oid = inner.read(TAG.OID);
        if (oid === null || !validOid(v, oid)) fail509("invalid extended key usages");
      }
      return null;
    }
    default:
      return null;
  }
}

/** P-224, P-256, P-384, P-521: the curves Go's x509 knows, by OID, with OpenSSL's names. */
const OPENSSL_CURVE: Record<string, string> = {
  "1.3.132.0.33": "secp224r1",
  "1.2.840.10045.3.1.7": "prime256v1",
  "1.3.132.0.34": "secp384r1",
  "1.3.132.0.35": "secp521r1",
};
const GO_CURVES = Object.keys(OPENSSL_CURVE);

/** elliptic.Unmarshal: an uncompressed point on the curve (OpenSSL checks it while converting). */
function onCurve(curveOid: string, point: Uint8Array): boolean {
  const name = OPENSSL_CURVE[curveOid];
  if (name === undefined || point[0] !== 4) return false;
  try {
    ECDH.convertKey(Buffer.from(point), name, undefined, undefined, "uncompressed");
    return true;
  } catch {
    return false;
  }
}

function decodeOid(body: Buffer): string {
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

const algorithmForType = (type: KeyType): string =>
  isEcdsa(type) ? "ECDSA" : type === "ed25519" ? "Ed25519" : isRsa(type) ? "RSA" : "";

/** keysutil ValidateLeafCertKeyMatch. */
function leafMatches(ring: Keyring, version: number, leaf: ParsedCertificate): boolean {
  if (!signingSupported(ring.type)) throw userError(`key type '${ring.type}' does not support signing`);
  if (algorithmForType(ring.type) !== leaf.publicKeyAlgorithm) {
    throw userError(
      `provided leaf certificate public key algorithm '${leaf.publicKeyAlgorithm}' does not match the transit key type '${ring.type}'`,
    );
  }
  const entry = policyKeyEntry(ring, version);
  if (ring.type === "ed25519" && ring.derived) {
    throw userError("operation not supported on keys with derivation enabled");
  }
  const ours = publicKeyObject(entry);
  if (ours === null) return false;
  // Go compares the key values (N and E; X, Y and the curve; the Ed25519 bytes) as parsed,
  // the certificate's bits right-aligned.
  try {
    return goKeyValue(ours.export({ format: "der", type: "spki" })) === goKeyValue(leaf.spki);
  } catch {
    return false;
  }
}

/** A comparable form of an SPKI's key as Go parses it (the SPKI passed checkPublicKey). */
function goKeyValue(spki: Buffer): string {
  const outer = readTlv(spki, 0);
  const [alg, key] = fields(spki, outer, 2);
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

/**
 * keysutil ValidateAndPersistCertificateChain without the persisting: the
 * version entry carrying the chain (DER, leaf first). Errors carry Vault's
 * texts and, through the path's prefixing, Vault's statuses (its plain errors are 500s).
 */
export function withCertificateChain(ring: Keyring, version: number, chain: ParsedCertificate[]): KeyVersion {
  const [leaf, ...others] = chain;
  if (leaf === undefined)
    throw userError("expected at least one certificate in the parsed certificate chain");
  if (leaf.basicConstraintsValid && leaf.isCA) {
    throw userError("certificate in the first position is not a leaf certificate");
  }
  for (const cert of others) {
    if (cert.basicConstraintsValid && !cert.isCA) {
      throw userError("provided certificate chain contains more than one leaf certificate");
    }
  }
  let valid: boolean;
  try {
    valid = leafMatches(ring, version, leaf);
  } catch (e) {
    if (e instanceof LogicalError) {
      throw new LogicalError(
        e.kind,
        `could not validate key match between leaf certificate key and key version in transit: ${e.message}`,
      );
    }
    throw e;
  }
  // A plain error in keysutil (fmt.Errorf): Vault answers 500.
  if (!valid) throw goError("leaf certificate public key does match the key version selected");
  const entry = policyKeyEntry(ring, version);
  return { ...entry, certificateChain: chain.map((c) => c.raw) };
}
