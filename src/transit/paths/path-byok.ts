import { byokWrap } from "../../crypto/keywrap.ts";
import { goError, internalError, invalidRequest, LogicalError } from "../../framework/errors.ts";
import { genericNameRegex, optionalParamRegex, type PathDefinition } from "../../framework/path.ts";
import { encodeStdBase64 } from "../../util/base64.ts";
import { privateKeyMissing, publicKeyObject } from "../keyring/asymmetric.ts";
import { parseHashFn } from "../keyring/byok-hash.ts";
import { exportVersions } from "../keyring/export-versions.ts";
import { privatePkcs8 } from "../keyring/key-encodings.ts";
import { isRsa, isSymmetric, signingSupported } from "../keyring/key-types.ts";
import { ERR_SOFT_DELETED, type Keyring, type KeyVersion } from "../keyring/keyring.ts";
import type { TransitState } from "../state.ts";

/**
 * getBYOKExportKey + keysutil Policy.WrapKey: one source version wrapped
 * for the destination's latest version, which must be an RSA key (its
 * public key is enough). Symmetric and HMAC keys are wrapped as raw bytes,
 * asymmetric ones as PKCS #8 (x509.MarshalPKCS8PrivateKey).
 */
function byokExportKey(dst: Keyring, src: Keyring, entry: KeyVersion, hashName: string): string {
  // getBYOKExportKey and Policy.WrapKey(0, ...) (the destination's latest version) return
  // plain errors: 500 in Vault, so here too.
  const hash = goParseHashFn(hashName);
  if (!signingSupported(dst.type)) {
    throw goError(`message signing not supported for key type ${dst.type}`);
  }
  const wrapping = dst.versions.get(dst.latestVersion);
  if (wrapping === undefined) throw goError("no such key version");
  const pub = isRsa(dst.type) ? publicKeyObject(wrapping) : null;
  if (pub === null) throw goError("unsupported key type in use; must be a rsa key");
  let target: Uint8Array;
  if (isSymmetric(src.type) || src.type === "hmac") {
    if (entry.key === undefined) throw goError("key version has no key material");
    target = entry.key;
  } else {
    // Vault dereferences the absent private key of a public-key-only import (a panic): a 400
    // naming the cause instead.
    if (privateKeyMissing(entry)) throw invalidRequest("private key not imported for key version selected");
    target = privatePkcs8(src.type, entry);
  }
  return encodeStdBase64(byokWrap(pub.export({ format: "der", type: "spki" }), target, hash));
}

/** parseHashFn as getBYOKExportKey calls it: its error is a plain one (500). */
function goParseHashFn(name: string): ReturnType<typeof parseHashFn> {
  try {
    return parseHashFn(name);
  } catch (e) {
    throw e instanceof LogicalError ? goError(e.message) : e;
  }
}

/** byok-export/:destination/:source(/:version) (transit path_byok.go). */
export function pathByokExport(t: TransitState): PathDefinition {
  return {
    pattern: `byok-export/${genericNameRegex("destination")}/${genericNameRegex("source")}${optionalParamRegex("version")}`,
    fields: {
      destination: {
        type: "string",
        description:
          "Destination key to export to; usually the public wrapping key of another Transit instance.",
      },
      source: {
        type: "string",
        description: "Source key to export; could be any present key within Transit.",
      },
      version: {
        type: "string",
        description: "Optional version of the key to export, else all key versions are exported.",
      },
      hash: {
        type: "string",
        default: "SHA256",
        description: "Hash function to use for inner OAEP encryption. Defaults to SHA256.",
      },
    },
    operations: {
      read: async (req, d) => {
        // Vault answers the two unknown keys with plain errors: 500.
        const dst = await t.keyrings.get(req.storage, d.get<"string">("destination"));
        if (dst === null) throw goError("no such destination key to export to");
        // OpenBao answers these with plain errors (500).
        if (dst.softDeleted === true) throw internalError(`for destination key: ${ERR_SOFT_DELETED}`);
        const src = await t.keyrings.get(req.storage, d.get<"string">("source"));
        if (src === null) throw goError("no such source key for export");
        if (!src.exportable) throw invalidRequest("key is not exportable");
        if (src.softDeleted === true) throw internalError(`for source key: ${ERR_SOFT_DELETED}`);
        const hash = d.get<"string">("hash");
        const keys: Record<string, string> = {};
        for (const v of exportVersions(src, d.get<"string">("version"))) {
          keys[String(v)] = byokExportKey(dst, src, src.versions.get(v) as KeyVersion, hash);
        }
        return { data: { name: src.name, type: src.type, keys } };
      },
    },
    helpSynopsis: "Securely export named encryption or signing key",
    helpDescription:
      "\nThis path is used to export the named keys that are configured as\nexportable.\n\nUnlike the regular /export/:name[/:version] paths, this path uses\nthe same encryption specification /import, allowing secure migration\nof keys between clusters to enable workloads to communicate between\nthem.\n\nPresently this only works for RSA destination keys.\n",
  };
}
