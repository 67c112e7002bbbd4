import "../../plugin/reflect-polyfill.ts";
import { createPublicKey, type KeyObject, sign as nodeSign } from "node:crypto";
import * as x509 from "@peculiar/x509";
import {
  children,
  contents,
  DerError,
  encodeBitString,
  encodeOid,
  encodeTlv,
  readTlv,
  TAG,
  type Tlv,
  whole,
} from "../../crypto/der.ts";
import { invalidRequest, LogicalError, userError } from "../../framework/errors.ts";
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
    if (outer.tag !== TAG.SEQUENCE) throw new DerError("asn1: structure error: tags don't match");
    if (outer.end !== der.length) throw new DerError("asn1: syntax error: trailing data");
    // Go's struct rule: elements after the last field are ignored.
    const [info, sigAlg, sig] = children(der, outer);
    if (info === undefined || sigAlg === undefined || sig === undefined) {
      throw new DerError("asn1: syntax error: sequence truncated");
    }
    if (info.tag !== TAG.SEQUENCE || sigAlg.tag !== TAG.SEQUENCE || sig.tag !== TAG.BIT_STRING) {
      throw new DerError("asn1: structure error: tags don't match");
    }
    const [version, name, spki, attrs] = children(der, info);
    if (version === undefined || name === undefined || spki === undefined || attrs === undefined) {
      throw new DerError("asn1: syntax error: sequence truncated");
    }
    if (
      version.tag !== TAG.INTEGER ||
      name.tag !== TAG.SEQUENCE ||
      spki.tag !== TAG.SEQUENCE ||
      attrs.tag !== 0xa0
    ) {
      throw new DerError("asn1: structure error: tags don't match");
    }
    subject = whole(der, name);
    rawAttributes = children(der, attrs);
  } catch (e) {
    if (e instanceof DerError) throw invalidRequest(e.message);
    throw e;
  }
  // What else Go's ParseCertificateRequest checks: the subject's RDNs, the
  // public key of a known algorithm, the requested extensions (SAN included).
  try {
    const csr = new x509.Pkcs10CertificateRequest(der);
    void csr.subject;
    void csr.extensions;
    void csr.publicKey.algorithm;
  } catch {
    throw invalidRequest("x509: malformed certificate request");
  }
  const attributes: GoAttribute[] = [];
  for (const raw of rawAttributes) {
    const attr = goAttribute(der, raw);
    if (attr !== null) attributes.push(attr);
  }
  return { subject, attributes };
}

/**
 * asn1.Unmarshal into pkix.AttributeTypeAndValueSET: SEQUENCE { OID,
 * SET OF SEQUENCE OF SEQUENCE { OID, ANY } }, extra trailing elements
 * allowed (Go's struct rule); null when it does not fit (Go drops it).
 */
function goAttribute(der: Buffer, raw: Tlv): GoAttribute | null {
  try {
    if (raw.tag !== TAG.SEQUENCE) return null;
    const [type, set] = children(der, raw);
    if (type === undefined || set === undefined || !validOid(der, type) || set.tag !== TAG.SET) return null;
    const values: GoAtv[][] = [];
    for (const seq of children(der, set)) {
      if (seq.tag !== TAG.SEQUENCE) return null;
      const atvs: GoAtv[] = [];
      for (const atv of children(der, seq)) {
        if (atv.tag !== TAG.SEQUENCE) return null;
        const [oid, value] = children(der, atv);
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
  return ((der[tlv.end - 1] as number) & 0x80) === 0;
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
      // Vault: a plain error (500); the template is the caller's.
      throw invalidRequest(`could not create the cerfificate request: ${e.message}`);
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
    const outer = readTlv(der, 0);
    if (outer.tag !== TAG.SEQUENCE || outer.end !== der.length) throw new DerError("malformed");
    const cert = new x509.X509Certificate(der);
    const bc = cert.getExtension(x509.BasicConstraintsExtension);
    const spki = Buffer.from(cert.publicKey.rawData);
    const [algOid, params] = spkiAlgorithm(spki);
    const publicKeyAlgorithm =
      algOid === OID_RSA
        ? "RSA"
        : algOid === OID_EC
          ? "ECDSA"
          : algOid === OID_ED25519
            ? "Ed25519"
            : algOid === OID_DSA
              ? "DSA"
              : "0";
    // Go parses the keys it knows, and knows these curves only.
    if (publicKeyAlgorithm === "ECDSA" && !GO_CURVES.includes(params)) throw new Error("unsupported curve");
    if (publicKeyAlgorithm !== "0" && publicKeyAlgorithm !== "DSA") {
      createPublicKey({ key: spki, format: "der", type: "spki" });
    }
    return { raw: der, basicConstraintsValid: bc !== null, isCA: bc?.ca === true, publicKeyAlgorithm, spki };
  } catch {
    throw invalidRequest("failed to parse certificate in certificate chain: x509: malformed certificate");
  }
}

/** P-224, P-256, P-384, P-521. */
const GO_CURVES = ["1.3.132.0.33", "1.2.840.10045.3.1.7", "1.3.132.0.34", "1.3.132.0.35"];

/** The algorithm OID of an SPKI and its parameter when that is an OID (the named curve). */
function spkiAlgorithm(spki: Buffer): [string, string] {
  const outer = readTlv(spki, 0);
  const [alg] = children(spki, outer);
  if (alg === undefined) return ["", ""];
  const [oid, param] = children(spki, alg);
  if (oid === undefined || oid.tag !== TAG.OID) return ["", ""];
  const p = param !== undefined && param.tag === TAG.OID ? decodeOid(contents(spki, param)) : "";
  return [decodeOid(contents(spki, oid)), p];
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
  // Go compares the key values (and the curve); node re-encodes both keys canonically.
  const theirs = createPublicKey({ key: leaf.spki, format: "der", type: "spki" });
  return ours.export({ format: "der", type: "spki" }).equals(theirs.export({ format: "der", type: "spki" }));
}

/**
 * keysutil ValidateAndPersistCertificateChain without the persisting: the
 * version entry carrying the chain (DER, leaf first). Errors carry Vault's
 * texts; those Vault answers with 500 are the caller's mistakes here (400).
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
  if (!valid) throw invalidRequest("leaf certificate public key does match the key version selected");
  const entry = policyKeyEntry(ring, version);
  return { ...entry, certificateChain: chain.map((c) => c.raw) };
}
