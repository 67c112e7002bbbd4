import { ed25519ToSpki } from "../../crypto/encodings.ts";
import { goError, internalError, invalidRequest } from "../../framework/errors.ts";
import { genericNameRegex, optionalParamRegex, type PathDefinition } from "../../framework/path.ts";
import type { LogicalResponse } from "../../framework/request.ts";
import { encodeStdBase64 } from "../../util/base64.ts";
import { privateKeyMissing, publicKeyObject } from "../keyring/asymmetric.ts";
import { exportVersions } from "../keyring/export-versions.ts";
import {
  certificateChainPem,
  ecPrivateSec1Pem,
  hmacKeyBytes,
  pemEncode,
  privatePkcs8,
  publicPkixPem,
  rsaPrivatePkcs1Pem,
} from "../keyring/key-encodings.ts";
import {
  encryptionSupported,
  isCmac,
  isEcdsa,
  isPqSigning,
  isRsa,
  isSymmetric,
  rawAesKeySize,
  signingSupported,
} from "../keyring/key-types.ts";
import { ERR_SOFT_DELETED, type Keyring, type KeyVersion } from "../keyring/keyring.ts";
import type { TransitState } from "../state.ts";

export const EXPORT_TYPES = [
  "encryption-key",
  "signing-key",
  "hmac-key",
  "public-key",
  "certificate-chain",
  "cmac-key",
] as const;
export type ExportType = (typeof EXPORT_TYPES)[number];

/**
 * export/:type/:name(/:version): the key material of an exportable key, or
 * the public keys and certificate chains of any signing key (transit
 * path_export.go). All versions from min_decryption_version up, or one.
 */
export function pathExport(t: TransitState): PathDefinition {
  return {
    pattern: `export/${genericNameRegex("type")}/${genericNameRegex("name")}${optionalParamRegex("version")}`,
    fields: {
      type: {
        type: "string",
        description: "Type of key to export (encryption-key, signing-key, hmac-key, public-key)",
      },
      name: { type: "string", description: "Name of the key" },
      version: { type: "string", description: "Version of the key" },
      format: {
        type: "string",
        description:
          "Format to export the key in: `` for the default format dependent on the key type; `raw` for the raw key value in base64 (applicable to symmetric keys and ed25519); `der` for a base64 encoded PKIX (SubjectPublicKeyInfo or PKCS8/PrivateKeyInfo) format (applicable to asymmetric keys); or `pem` for a PEM-encoded PKIX format (applicable to asymmetric keys).",
      },
    },
    operations: {
      read: async (req, d): Promise<LogicalResponse | null> => {
        const exportType = d.get<"string">("type");
        if (!(EXPORT_TYPES as readonly string[]).includes(exportType)) {
          throw invalidRequest(`invalid export type: ${exportType}`);
        }
        const format = d.get<"string">("format");
        if (!(EXPORT_FORMATS as readonly string[]).includes(format)) {
          throw invalidRequest(`invalid format: ${format}`);
        }
        const ring = await t.keyrings.get(req.storage, d.get<"string">("name"));
        if (ring === null) return null;
        const type = exportType as ExportType;
        if (!ring.exportable && type !== "public-key" && type !== "certificate-chain") {
          throw invalidRequest("private key material is not exportable");
        }
        // OpenBao checks this after exportability, with a plain error (500).
        if (ring.softDeleted === true) throw internalError(ERR_SOFT_DELETED);
        if (type === "encryption-key" && !encryptionSupported(ring.type)) {
          throw invalidRequest("encryption not supported for the key");
        }
        if (type === "signing-key" && !signingSupported(ring.type)) {
          throw invalidRequest("signing not supported for the key");
        }
        if (type === "cmac-key" && !isCmac(ring.type)) {
          throw invalidRequest("CMAC not supported for the key");
        }
        if (type === "certificate-chain" && !signingSupported(ring.type)) {
          throw invalidRequest("certificate chain not supported for keys that do not support signing");
        }
        const keys: Record<string, string> = {};
        for (const v of exportVersions(ring, d.get<"string">("version"))) {
          const entry = ring.versions.get(v);
          if (entry === undefined) throw invalidRequest("version does not exist or cannot be found");
          keys[String(v)] = exportKey(ring, entry, type, format as ExportFormat);
        }
        return { data: { name: ring.name, type: ring.type, keys } };
      },
    },
    helpSynopsis: "Export named encryption or signing key",
    helpDescription: "This path is used to export the named keys that are configured as exportable.",
  };
}

export const EXPORT_FORMATS = ["", "raw", "der", "pem"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const HMAC_FORMAT_ERROR = "unknown format for HMAC key; supported values are `` or `raw`";
const RSA_FORMAT_ERROR = "unknown key format for rsa key; supported values are ``, `der`, or `pem`";
const EC_FORMAT_ERROR = "unknown key format for ec key; supported values are ``, `der`, or `pem`";

/**
 * getExportKey: one version in the encoding for the export type and
 * OpenBao's `format`: "" is Vault's encoding (PKCS #1 / SEC 1 PEM for
 * private keys); "raw" base64 of the key bytes (symmetric, HMAC, ed25519);
 * "der" base64 of PKCS #8 or PKIX DER; "pem" that DER as PEM. The wrong
 * format for a type is OpenBao's plain error (500), in its words (symmetric
 * keys share the HMAC text there).
 */
export function exportKey(
  ring: Keyring,
  entry: KeyVersion,
  type: ExportType,
  format: ExportFormat = "",
): string {
  const unknown = (): never => {
    // A plain error in Vault (getExportKey): 500.
    throw goError(`unknown key type ${ring.type} for export type ${type}`);
  };
  const asn1 = format === "der" || format === "pem";
  switch (type) {
    case "hmac-key": {
      if (asn1) throw internalError(HMAC_FORMAT_ERROR);
      const key = hmacKeyBytes(ring.type, entry);
      return key === undefined ? "" : encodeStdBase64(key);
    }
    case "encryption-key":
      if (isSymmetric(ring.type)) {
        if (asn1) throw internalError(HMAC_FORMAT_ERROR);
        return entry.key === undefined ? "" : encodeStdBase64(entry.key);
      }
      if (isRsa(ring.type)) return rsaPrivate(ring, entry, format);
      if (rawAesKeySize(ring.type) > 0 && !isCmac(ring.type)) {
        if (asn1) throw internalError(HMAC_FORMAT_ERROR);
        return entry.key === undefined ? "" : encodeStdBase64(entry.key);
      }
      return unknown();
    case "cmac-key":
      return entry.key === undefined ? "" : encodeStdBase64(entry.key);
    case "signing-key":
      if (isEcdsa(ring.type)) {
        if (format === "raw") throw internalError(EC_FORMAT_ERROR);
        if (format === "") return ecPrivateSec1Pem(entry);
        return privateKeyMissing(entry)
          ? ""
          : asn1Text(privatePkcs8(ring.type, entry), format, "PRIVATE KEY", true);
      }
      if (ring.type === "ed25519") {
        if (entry.key === undefined || entry.key.length === 0) return "";
        if (!asn1) return encodeStdBase64(entry.key);
        return asn1Text(privatePkcs8(ring.type, entry), format, "PRIVATE KEY", true);
      }
      if (isRsa(ring.type)) return rsaPrivate(ring, entry, format);
      // A hybrid key's private half is two keys whose export encoding Vault Enterprise does not show.
      if (ring.type === "hybrid") throw invalidRequest("signing-key export is not supported for hybrid keys");
      if (isPqSigning(ring.type)) return entry.pqKey === undefined ? "" : encodeStdBase64(entry.pqKey);
      return unknown();
    case "public-key":
      if (isEcdsa(ring.type)) {
        if (format === "raw") throw internalError(EC_FORMAT_ERROR);
        return format === "der" ? encodeStdBase64(publicDer(entry)) : publicPkixPem(entry, true);
      }
      if (ring.type === "ed25519") {
        const formatted = (entry.formattedPublicKey ?? "").trim();
        if (!asn1) return formatted;
        const raw = Buffer.from(formatted, "base64");
        return asn1Text(ed25519ToSpki(raw), format, "PUBLIC KEY", true);
      }
      if (isRsa(ring.type)) {
        if (format === "raw") throw internalError(RSA_FORMAT_ERROR);
        return format === "der" ? encodeStdBase64(publicDer(entry)) : publicPkixPem(entry, false);
      }
      if (isPqSigning(ring.type)) return entry.formattedPublicKey ?? "";
      return unknown();
    case "certificate-chain": {
      const chain = certificateChainPem(entry);
      if (chain === null) throw goError("selected key version does not have a certificate chain imported");
      return chain;
    }
  }
}

/** DER as base64 ("der") or PEM ("pem"; Go's EC and ed25519 encoders trim, its RSA ones do not). */
function asn1Text(der: Uint8Array, format: "der" | "pem" | "", label: string, trim: boolean): string {
  if (format === "der") return encodeStdBase64(der);
  const pem = pemEncode(label, der);
  return trim ? pem.trim() : pem;
}

function rsaPrivate(ring: Keyring, entry: KeyVersion, format: ExportFormat): string {
  if (format === "raw") throw internalError(RSA_FORMAT_ERROR);
  if (format === "") return rsaPrivatePkcs1Pem(entry);
  return privateKeyMissing(entry)
    ? ""
    : asn1Text(privatePkcs8(ring.type, entry), format, "PRIVATE KEY", false);
}

function publicDer(entry: KeyVersion): Buffer {
  const key = publicKeyObject(entry);
  if (key === null) throw internalError("requested to encode a public key with no key present");
  return key.export({ format: "der", type: "spki" });
}
