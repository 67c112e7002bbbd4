import { goError, invalidRequest } from "../../framework/errors.ts";
import { genericNameRegex, optionalParamRegex, type PathDefinition } from "../../framework/path.ts";
import type { LogicalResponse } from "../../framework/request.ts";
import { encodeStdBase64 } from "../../util/base64.ts";
import {
  certificateChainPem,
  ecPrivateSec1Pem,
  hmacKeyBytes,
  publicPkixPem,
  rsaPrivatePkcs1Pem,
} from "../keyring/key-encodings.ts";
import { encryptionSupported, isEcdsa, isRsa, isSymmetric, signingSupported } from "../keyring/key-types.ts";
import type { Keyring, KeyVersion } from "../keyring/keyring.ts";
import type { TransitState } from "../state.ts";

export const EXPORT_TYPES = [
  "encryption-key",
  "signing-key",
  "hmac-key",
  "public-key",
  "certificate-chain",
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
    },
    operations: {
      read: async (req, d): Promise<LogicalResponse | null> => {
        const exportType = d.get<"string">("type");
        if (!(EXPORT_TYPES as readonly string[]).includes(exportType)) {
          throw invalidRequest(`invalid export type: ${exportType}`);
        }
        const ring = await t.keyrings.get(req.storage, d.get<"string">("name"));
        if (ring === null) return null;
        const type = exportType as ExportType;
        if (!ring.exportable && type !== "public-key" && type !== "certificate-chain") {
          throw invalidRequest("private key material is not exportable");
        }
        if (type === "encryption-key" && !encryptionSupported(ring.type)) {
          throw invalidRequest("encryption not supported for the key");
        }
        if (type === "signing-key" && !signingSupported(ring.type)) {
          throw invalidRequest("signing not supported for the key");
        }
        if (type === "certificate-chain" && !signingSupported(ring.type)) {
          throw invalidRequest("certificate chain not supported for keys that do not support signing");
        }
        const keys: Record<string, string> = {};
        for (const v of exportVersions(ring, d.get<"string">("version"))) {
          const entry = ring.versions.get(v);
          if (entry === undefined) throw invalidRequest("version does not exist or cannot be found");
          keys[String(v)] = exportKey(ring, entry, type);
        }
        return { data: { name: ring.name, type: ring.type, keys } };
      },
    },
    helpSynopsis: "Export named encryption or signing key",
    helpDescription: "This path is used to export the named keys that are configured as exportable.",
  };
}

/**
 * The versions an export covers: every version Vault keeps in the policy
 * (from min_decryption_version), or the one named ("latest", "3", "v3").
 */
export function exportVersions(ring: Keyring, version: string): number[] {
  if (version === "") {
    return [...ring.versions.keys()].filter((v) => v >= ring.minDecryptionVersion).sort((a, b) => a - b);
  }
  let value: number;
  if (version === "latest") {
    value = ring.latestVersion;
  } else {
    const text = version.startsWith("v") ? version.slice(1) : version;
    if (!/^[+-]?\d+$/.test(text) || !Number.isSafeInteger(Number(text)))
      throw invalidRequest("invalid key version");
    value = Number(text);
  }
  if (value < ring.minDecryptionVersion) {
    throw invalidRequest("version for export is below minimum decryption version");
  }
  if (!ring.versions.has(value)) throw invalidRequest("version does not exist or cannot be found");
  return [value];
}

/** getExportKey: one version in Vault's encoding for the export type. */
export function exportKey(ring: Keyring, entry: KeyVersion, type: ExportType): string {
  const unknown = (): never => {
    // A plain error in Vault (getExportKey): 500.
    throw goError(`unknown key type ${ring.type} for export type ${type}`);
  };
  switch (type) {
    case "hmac-key": {
      const key = hmacKeyBytes(ring.type, entry);
      return key === undefined ? "" : encodeStdBase64(key);
    }
    case "encryption-key":
      if (isSymmetric(ring.type)) return entry.key === undefined ? "" : encodeStdBase64(entry.key);
      if (isRsa(ring.type)) return rsaPrivatePkcs1Pem(entry);
      return unknown();
    case "signing-key":
      if (isEcdsa(ring.type)) return ecPrivateSec1Pem(entry);
      if (ring.type === "ed25519") return entry.key === undefined ? "" : encodeStdBase64(entry.key);
      if (isRsa(ring.type)) return rsaPrivatePkcs1Pem(entry);
      return unknown();
    case "public-key":
      if (isEcdsa(ring.type)) return publicPkixPem(entry, true);
      if (ring.type === "ed25519") return (entry.formattedPublicKey ?? "").trim();
      if (isRsa(ring.type)) return publicPkixPem(entry, false);
      return unknown();
    case "certificate-chain": {
      const chain = certificateChainPem(entry);
      if (chain === null) throw goError("selected key version does not have a certificate chain imported");
      return chain;
    }
  }
}
