import {
  children,
  contents,
  DerError,
  decodeOid,
  encodeTlv,
  leadingChildren,
  readTlv,
  TAG,
  type Tlv,
  validInteger,
  validOid,
  whole,
} from "../crypto/der.ts";
import { type GoAny, parseGoAny } from "./asn1.ts";
import { marshalGoAny } from "./asn1-marshal.ts";
import { algorithmIdentifier, checkPublicKey, validBitString } from "./x509.ts";
import { checkSanExtension } from "./x509-san.ts";

/**
 * A PKCS #10 request as Go's x509.ParseCertificateRequest reads it and as
 * x509.CreateCertificateRequest writes its attributes back
 * (crypto/x509/x509.go: ParseCertificateRequest, parseRawAttributes,
 * parseCSRExtensions, newRawAttributes): the raw subject, the attributes
 * pkix.AttributeTypeAndValueSET can hold (others dropped), values as Go's
 * `any` keeps them. Parse failures are DerErrors with Go's text; values Go
 * cannot marshal back fail encodeTemplateAttributes with Asn1MarshalError.
 */

interface GoAtv {
  type: Buffer;
  value: GoAny;
}

interface GoAttribute {
  type: Buffer;
  values: GoAtv[][];
}

export interface CsrTemplate {
  subject: Buffer;
  attributes: GoAttribute[];
}

/** The template of an empty request: an empty subject, no attributes. */
export const EMPTY_CSR_TEMPLATE: CsrTemplate = { subject: Buffer.from("3000", "hex"), attributes: [] };

const TAGS_DONT_MATCH = "asn1: structure error: tags don't match";
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

/** x509.ParseCertificateRequest's checks, keeping what CreateCertificateRequest reuses. */
export function parseCsrTemplate(der: Buffer): CsrTemplate {
  const outer = readTlv(der, 0);
  if (outer.tag !== TAG.SEQUENCE) throw new DerError(TAGS_DONT_MATCH);
  if (outer.end !== der.length) throw new DerError("asn1: syntax error: trailing data");
  const [info, sigAlg, sig] = fields(der, outer, 3);
  if (info.tag !== TAG.SEQUENCE || !validBitString(der, sig)) {
    throw new DerError(TAGS_DONT_MATCH);
  }
  algorithmIdentifier(der, sigAlg);
  const [version, name, spki, attrs] = fields(der, info, 4);
  if (!validInteger(der, version) || name.tag !== TAG.SEQUENCE || attrs.tag !== 0xa0) {
    throw new DerError(TAGS_DONT_MATCH);
  }
  const rawAttributes = children(der, attrs);
  checkPublicKey(der, spki);
  checkRdnSequence(der, name);
  checkRequestedExtensions(der, rawAttributes);
  const attributes: GoAttribute[] = [];
  for (const raw of rawAttributes) {
    const attr = goAttribute(der, raw);
    if (attr !== null) attributes.push(attr);
  }
  return { subject: whole(der, name), attributes };
}

/** asn1.Unmarshal into pkix.RDNSequence: SEQUENCE OF SET OF SEQUENCE { OID, ANY }. */
function checkRdnSequence(der: Buffer, name: Tlv): void {
  for (const rdn of children(der, name)) {
    if (rdn.tag !== TAG.SET) throw new DerError(TAGS_DONT_MATCH);
    for (const atv of children(der, rdn)) {
      if (atv.tag !== TAG.SEQUENCE) throw new DerError(TAGS_DONT_MATCH);
      const [oid, value] = fields(der, atv, 2);
      if (!validOid(der, oid)) throw new DerError(TAGS_DONT_MATCH);
      if (parseGoAny(der, value) === undefined)
        throw new DerError("asn1: syntax error: invalid value in the subject");
    }
  }
}

/**
 * parseCSRExtensions and parseSANExtension: the first value of each
 * extensionRequest attribute must be a SEQUENCE OF Extension, no extension
 * requested twice, subject alternative names well formed. Attributes of
 * another shape are ignored.
 */
function checkRequestedExtensions(der: Buffer, rawAttributes: Tlv[]): void {
  const seen = new Set<string>();
  for (const raw of rawAttributes) {
    const first = extensionRequestValue(der, raw);
    if (first === undefined) continue;
    if (first.tag !== TAG.SEQUENCE) throw new DerError(TAGS_DONT_MATCH);
    for (const ext of children(der, first)) {
      if (ext.tag !== TAG.SEQUENCE) throw new DerError(TAGS_DONT_MATCH);
      let parts = leadingChildren(der, ext, 2);
      if (parts[1]?.tag === TAG.BOOLEAN) parts = leadingChildren(der, ext, 3);
      const [oid] = parts;
      if (oid === undefined || !validOid(der, oid)) throw new DerError(TAGS_DONT_MATCH);
      const value = parts[parts[1]?.tag === TAG.BOOLEAN ? 2 : 1];
      if (value === undefined || value.tag !== TAG.OCTET_STRING) throw new DerError(TAGS_DONT_MATCH);
      const id = decodeOid(contents(der, oid));
      if (seen.has(id))
        throw new DerError("x509: certificate request contains duplicate requested extensions");
      seen.add(id);
      if (id === OID_SAN) checkSanExtension(contents(der, value));
    }
  }
}

/** The first value of an extensionRequest attribute; undefined for attributes of another kind or shape. */
function extensionRequestValue(der: Buffer, raw: Tlv): Tlv | undefined {
  try {
    if (raw.tag !== TAG.SEQUENCE) return undefined;
    const [oid, set] = fields(der, raw, 2);
    if (!validOid(der, oid) || set.tag !== TAG.SET) return undefined;
    if (decodeOid(contents(der, oid)) !== OID_EXTENSION_REQUEST) return undefined;
    return children(der, set)[0];
  } catch (e) {
    if (e instanceof DerError) return undefined;
    throw e;
  }
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
        const parsed = parseGoAny(der, value);
        if (parsed === undefined) return null;
        atvs.push({ type: whole(der, oid), value: parsed });
      }
      values.push(atvs);
    }
    return { type: whole(der, type), values };
  } catch (e) {
    if (e instanceof DerError) return null;
    throw e;
  }
}

/** newRawAttributes: each attribute with its SET OF elements sorted by their encodings (DER). */
export function encodeTemplateAttributes(template: CsrTemplate): Buffer[] {
  return template.attributes.map((attr) => {
    const sets = attr.values.map((atvs) =>
      encodeTlv(
        TAG.SEQUENCE,
        ...atvs.map((atv) => encodeTlv(TAG.SEQUENCE, atv.type, marshalGoAny(atv.value))),
      ),
    );
    sets.sort(Buffer.compare);
    return encodeTlv(TAG.SEQUENCE, attr.type, encodeTlv(TAG.SET, ...sets));
  });
}
