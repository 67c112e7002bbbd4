import type { HashAlgorithm } from "../../crypto/hash.ts";
import { aesKeyUnwrapPad, BYOK_ENCRYPTED_KEY_BYTES } from "../../crypto/keywrap.ts";
import { rsaDecrypt } from "../../crypto/rsa.ts";
import { goError, invalidRequest } from "../../framework/errors.ts";
import type { FieldData } from "../../framework/fields.ts";
import { genericNameRegex, type PathDefinition } from "../../framework/path.ts";
import type { Storage } from "../../framework/storage.ts";
import { base64ErrorMessage, decodeStdBase64 } from "../../util/base64.ts";
import { parseHashFn } from "../keyring/byok-hash.ts";
import {
  checkVersionCanBeUpdated,
  ImportError,
  importPublicKeySupported,
  withImportedKey,
  withPrivateKeyForVersion,
} from "../keyring/import.ts";
import { isKeyType, type KeyType } from "../keyring/key-types.ts";
import { KDF_HMAC_SHA256_COUNTER, type Keyring, newKeyring } from "../keyring/keyring.ts";
import { peekWrappingKey } from "../keyring/wrapping-key.ts";
import type { TransitState } from "../state.ts";
import { KEY_POLICY_FIELDS } from "./key-policy-fields.ts";

/**
 * keys/:name/import and keys/:name/import_version (transit path_import.go):
 * BYOK. The target key arrives as base64( RSA-OAEP(wrapping key,
 * ephemeral AES-256 key; hash_function for OAEP and MGF1, empty label)
 * || KWP(ephemeral key, target) ), the target being raw bytes for
 * symmetric and HMAC keys and PKCS #8 DER for asymmetric ones; or, for
 * RSA, ECDSA and Ed25519, just a PKIX PEM public_key.
 *
 * Vault answers most failures here with 500 (plain errors); they are the
 * caller's mistakes, so this engine answers 400 with Vault's text. A
 * failed import changes nothing: the wrapping key is not made by an
 * import (no ciphertext can be valid before wrapping_key was read).
 */

/** Types keys/:name/import accepts (Vault CE's list and Vault Enterprise's CMAC and CBC types). */
const IMPORTABLE: ReadonlySet<KeyType> = new Set<KeyType>([
  "aes128-gcm96",
  "aes256-gcm96",
  "chacha20-poly1305",
  "xchacha20-poly1305",
  "ecdsa-p256",
  "ecdsa-p384",
  "ecdsa-p521",
  "ed25519",
  "rsa-2048",
  "rsa-3072",
  "rsa-4096",
  "hmac",
  // Vault Enterprise imports the raw key bytes of its CMAC and CBC types like AES-GCM's.
  "aes128-cmac",
  "aes192-cmac",
  "aes256-cmac",
  "aes128-cbc",
  "aes256-cbc",
]);

/** KWP bounds of Tink's implementation, which Vault uses (16..8192-byte keys). */
const KWP_MIN_WRAPPED = 24;
const KWP_MAX_WRAPPED = 8200;

const HASH_FIELD = {
  type: "string",
  default: "SHA256",
  description:
    'The hash function used as a random oracle in the OAEP wrapping of the user-generated, ephemeral AES key. Can be one of "SHA1", "SHA224", "SHA256" (default), "SHA384", or "SHA512"',
} as const;
const CIPHERTEXT_FIELD = {
  type: "string",
  description:
    "The base64-encoded ciphertext of the keys. The AES key should be encrypted using OAEP with the wrapping key and then concatenated with the import key, wrapped by the AES key.",
} as const;
const PUBLIC_KEY_FIELD = {
  type: "string",
  description: 'The plaintext PEM public key to be imported. If "ciphertext" is set, this field is ignored.',
} as const;

/** checkKeyFieldsSet: the ciphertext (a private key) when given, else the public key. */
function isCiphertextSet(d: FieldData): boolean {
  // Vault looks for "publicKey" (sic) in its both-set check, so a request with
  // both fields is treated as a ciphertext import; so is it here.
  return Object.hasOwn(d.raw, "ciphertext");
}

/** decryptImportedKey: the target key bytes out of the BYOK envelope. */
async function decryptImportedKey(
  t: TransitState,
  storage: Storage,
  ciphertext: Uint8Array,
  hash: HashAlgorithm,
): Promise<Buffer> {
  if (ciphertext.length <= BYOK_ENCRYPTED_KEY_BYTES) throw goError("provided ciphertext is too short");
  const wrapping = await peekWrappingKey(t.keyrings, storage);
  const entry = wrapping?.versions.get(wrapping.latestVersion);
  // Without a wrapping key nothing can have been wrapped for it: Vault would make
  // one here and then fail the OAEP step; the answer is the same, storage untouched.
  const ephemeral =
    entry?.privateKey === undefined
      ? null
      : rsaDecrypt(entry.privateKey, ciphertext.subarray(0, BYOK_ENCRYPTED_KEY_BYTES), "oaep", hash);
  if (ephemeral === null) throw goError("crypto/rsa: decryption error");
  try {
    if (ephemeral.length !== 32) throw goError("expected ephemeral AES key to be 256-bit");
    const wrapped = ciphertext.subarray(BYOK_ENCRYPTED_KEY_BYTES);
    if (wrapped.length < KWP_MIN_WRAPPED) throw goError("kwp: wrapped key size too small");
    if (wrapped.length > KWP_MAX_WRAPPED) throw goError("kwp: wrapped key size too large");
    if (wrapped.length % 8 !== 0) throw goError("kwp: wrapped key size must be a multiple of 8 bytes");
    const key = aesKeyUnwrapPad(ephemeral, wrapped);
    if (key === null) throw goError("kwp: unwrap failed integrity check");
    return key;
  } finally {
    ephemeral.fill(0);
  }
}

/** extractKeyFromFields. */
async function extractKey(
  t: TransitState,
  storage: Storage,
  d: FieldData,
  type: KeyType,
  isPrivateKey: boolean,
): Promise<Buffer> {
  if (isPrivateKey) {
    const hash = parseHashFn(d.get<"string">("hash_function"));
    const text = d.get<"string">("ciphertext");
    const ciphertext = decodeStdBase64(text);
    if (ciphertext === null) throw goError(base64ErrorMessage(text));
    return decryptImportedKey(t, storage, ciphertext, hash);
  }
  if (!importPublicKeySupported(type)) throw goError("provided type does not support public_key import");
  return Buffer.from(d.get<"string">("public_key"), "utf8");
}

/**
 * import and import_version: as in Vault, only an unknown hash function or key
 * type is a 400; every other failure is a plain Go error there, so a 500 with
 * the same text here.
 */
export function pathImport(t: TransitState): PathDefinition {
  return {
    pattern: `keys/${genericNameRegex("name")}/import$`,
    fields: {
      name: { type: "string", description: "The name of the key" },
      type: {
        type: "string",
        default: "aes256-gcm96",
        description:
          'The type of key being imported. Currently, "aes128-gcm96" (symmetric), "aes256-gcm96" (symmetric), "ecdsa-p256" (asymmetric), "ecdsa-p384" (asymmetric), "ecdsa-p521" (asymmetric), "ed25519" (asymmetric), "rsa-2048" (asymmetric), "rsa-3072" (asymmetric), "rsa-4096" (asymmetric) are supported.  Defaults to "aes256-gcm96".',
      },
      hash_function: HASH_FIELD,
      ciphertext: CIPHERTEXT_FIELD,
      public_key: PUBLIC_KEY_FIELD,
      allow_rotation: {
        type: "bool",
        description: "True if the imported key may be rotated within Vault; false otherwise.",
      },
      derived: {
        type: "bool",
        description:
          "Enables key derivation mode. This allows for per-transaction unique keys for encryption operations.",
      },
      ...KEY_POLICY_FIELDS,
    },
    operations: {
      update: async (req, d) => {
        const name = d.get<"string">("name");
        if (Object.hasOwn(d.raw, "convergent_encryption")) {
          throw goError("import cannot be used on keys with convergent encryption enabled");
        }
        const autoRotatePeriod = d.get<"duration_second">("auto_rotate_period");
        const allowRotation = d.get<"bool">("allow_rotation");
        if (autoRotatePeriod > 0 && !allowRotation) {
          throw goError("allow_rotation must be set to true if auto-rotation is enabled");
        }
        const isPrivateKey = isCiphertextSet(d);
        const typeName = d.get<"string">("type");
        const type = typeName.toLowerCase();
        if (!isKeyType(type) || !IMPORTABLE.has(type)) throw invalidRequest(`unknown key type: ${typeName}`);
        return t.keyrings.exclusive(name, async () => {
          if ((await t.keyrings.get(req.storage, name)) !== null) {
            throw goError(
              "the import path cannot be used with an existing key; use import-version to rotate an existing imported key",
            );
          }
          const key = await extractKey(t, req.storage, d, type, isPrivateKey);
          try {
            // keysutil LockManager.ImportPolicy: a bare Policy, so a derived key keeps
            // KDF 0 (the counter-mode KDF) and ConvergentVersion 0, as in Vault.
            const ring: Keyring = newKeyring({
              name,
              type,
              derived: d.get<"bool">("derived"),
              exportable: d.get<"bool">("exportable"),
              allowPlaintextBackup: d.get<"bool">("allow_plaintext_backup"),
              autoRotatePeriod,
            });
            ring.kdf = KDF_HMAC_SHA256_COUNTER;
            ring.convergentVersion = 0;
            ring.imported = true;
            ring.allowImportedKeyRotation = allowRotation;
            let next: Keyring;
            try {
              next = withImportedKey(ring, key, isPrivateKey);
            } catch (e) {
              if (e instanceof ImportError) throw goError(`error importing key: ${e.message}`);
              throw e;
            }
            await t.keyrings.store(req.storage, next);
            t.logger.info("key imported", { key: name, type, private: isPrivateKey });
            return null;
          } finally {
            key.fill(0);
          }
        });
      },
    },
    helpSynopsis: "Imports an externally-generated key into a new transit key",
    helpDescription:
      "This path is used to import an externally-generated key into Vault. The import operation creates a new key and cannot be used to replace an existing key.",
  };
}

export function pathImportVersion(t: TransitState): PathDefinition {
  return {
    pattern: `keys/${genericNameRegex("name")}/import_version$`,
    fields: {
      name: { type: "string", description: "The name of the key" },
      ciphertext: CIPHERTEXT_FIELD,
      public_key: PUBLIC_KEY_FIELD,
      hash_function: HASH_FIELD,
      version: {
        type: "int",
        description:
          "Key version to be updated, if left empty, a new version will be created unless a private key is specified and the 'Latest' key is missing a private key.",
      },
    },
    operations: {
      update: async (req, d) => {
        const name = d.get<"string">("name");
        const isPrivateKey = isCiphertextSet(d);
        const [versionRaw, versionGiven] = d.getOk("version");
        return t.keyrings.exclusive(name, async () => {
          const ring = await t.keyrings.get(req.storage, name);
          if (ring === null) {
            throw goError(`no key found with name ${name}; to import a new key, use the import/ endpoint`);
          }
          if (!ring.imported) {
            throw goError("the import_version endpoint can only be used with an imported key");
          }
          if (ring.convergentEncryption) {
            throw goError("import_version cannot be used on keys with convergent encryption enabled");
          }
          const key = await extractKey(t, req.storage, d, ring.type, isPrivateKey);
          try {
            let next: Keyring;
            try {
              if (versionGiven) {
                const version = versionRaw as number;
                checkVersionCanBeUpdated(ring, version, isPrivateKey);
                next = withPrivateKeyForVersion(ring, version, key);
              } else {
                next = withImportedKey(ring, key, isPrivateKey);
              }
            } catch (e) {
              if (e instanceof ImportError) throw goError(e.message);
              throw e;
            }
            await t.keyrings.store(req.storage, next);
            t.logger.info("key version imported", { key: name, version: next.latestVersion });
            return null;
          } finally {
            key.fill(0);
          }
        });
      },
    },
    helpSynopsis: "Imports an externally-generated key into an existing imported key",
    helpDescription:
      "This path is used to import a new version of an externally-generated key into an existing import key. The import_version endpoint only supports importing key material into existing imported keys.",
  };
}
