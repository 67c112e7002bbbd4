import { DerError, encodeBitString, encodeOid, encodeTlv, TAG } from "../../crypto/der.ts";
import { signMessage } from "../../crypto/sign.ts";
import { goError, invalidRequest, LogicalError, userError } from "../../framework/errors.ts";
import { Asn1MarshalError } from "../../gocompat/asn1-marshal.ts";
import {
  type CsrTemplate,
  EMPTY_CSR_TEMPLATE,
  encodeTemplateAttributes,
  parseCsrTemplate as parseCsrTemplateDer,
} from "../../gocompat/csr-template.ts";
import { goPemDecode, goTrimSpace } from "../../gocompat/pem.ts";
import {
  OID_ED25519,
  type ParsedCertificate,
  parseCertificate,
  publicKeyValue,
} from "../../gocompat/x509.ts";
import { privateKeyMissing, privateKeyObject, publicKeyObject } from "./asymmetric.ts";
import { pemEncode } from "./key-encodings.ts";
import { type EcdsaKeyType, isEcdsa, isRsa, type KeyType, signingSupported } from "./key-types.ts";
import type { Keyring, KeyVersion } from "./keyring.ts";

/**
 * Certificates of asymmetric keys (keysutil CreateCsr,
 * ValidateLeafCertKeyMatch, ValidateAndPersistCertificateChain; transit
 * path_certificates.go parseCsr / parseCertificateChain).
 *
 * A CSR is built as Go's x509.CreateCertificateRequest builds it from the
 * template Vault parsed with x509.ParseCertificateRequest (see
 * src/gocompat/csr-template.ts: the template's raw subject, its attributes
 * as Go keeps them; a value Go cannot marshal back fails the request), the
 * key version's public key and Go's default signature algorithm for it
 * (SHA256WithRSA, ECDSA with SHA-256 / SHA-384 / SHA-512 by curve, pure
 * Ed25519). Certificates are parsed as Go's x509.ParseCertificate parses
 * them (src/gocompat/x509.ts).
 */

export type { CsrTemplate, ParsedCertificate };

/** transit parseCsr: an empty template for "", else the first PEM block as a PKCS #10 request. */
export function parseCsrTemplate(text: string): CsrTemplate {
  if (text === "") return EMPTY_CSR_TEMPLATE;
  const block = goPemDecode(text);
  if (block === null) throw invalidRequest("could not decode PEM certificate request");
  try {
    return parseCsrTemplateDer(block.bytes);
  } catch (e) {
    if (e instanceof DerError) throw invalidRequest(e.message);
    throw e;
  }
}

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
  const pub = publicKeyObject(entry);
  if (pub === null) throw userError("private key not imported for key version selected");
  let attributes: Buffer[];
  try {
    attributes = encodeTemplateAttributes(template);
  } catch (e) {
    if (e instanceof Asn1MarshalError) {
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
  const { algorithm, signature } = signTbs(ring.type, entry, tbs);
  const der = encodeTlv(TAG.SEQUENCE, tbs, algorithm, encodeBitString(signature));
  return pemEncode("CERTIFICATE REQUEST", der);
}

const ECDSA_DEFAULTS: Record<EcdsaKeyType, [string, "sha2-256" | "sha2-384" | "sha2-512"]> = {
  "ecdsa-p256": ["1.2.840.10045.4.3.2", "sha2-256"],
  "ecdsa-p384": ["1.2.840.10045.4.3.3", "sha2-384"],
  "ecdsa-p521": ["1.2.840.10045.4.3.4", "sha2-512"],
};

/** Go's signingParamsForPublicKey defaults and the signature over the TBS bytes. */
function signTbs(type: KeyType, entry: KeyVersion, tbs: Buffer): { algorithm: Buffer; signature: Buffer } {
  const key = privateKeyObject(entry);
  if (key === null) throw userError("private key not imported for key version selected");
  if (isRsa(type)) {
    return {
      algorithm: encodeTlv(TAG.SEQUENCE, encodeOid("1.2.840.113549.1.1.11"), Buffer.from("0500", "hex")),
      signature: signMessage(key, "sha2-256", tbs),
    };
  }
  if (isEcdsa(type)) {
    const [oid, hash] = ECDSA_DEFAULTS[type];
    return { algorithm: encodeTlv(TAG.SEQUENCE, encodeOid(oid)), signature: signMessage(key, hash, tbs) };
  }
  return {
    algorithm: encodeTlv(TAG.SEQUENCE, encodeOid(OID_ED25519)),
    signature: signMessage(key, null, tbs),
  };
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
  return blocks.map((der) => {
    try {
      return parseCertificate(der);
    } catch (e) {
      if (e instanceof DerError) {
        throw invalidRequest(`failed to parse certificate in certificate chain: ${e.message}`);
      }
      throw e;
    }
  });
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
  // Go compares the key values as parsed, the certificate's bits right-aligned.
  try {
    return publicKeyValue(ours.export({ format: "der", type: "spki" })) === publicKeyValue(leaf.spki);
  } catch {
    return false;
  }
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
