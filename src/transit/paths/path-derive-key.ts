import { ecdhDeriveKey, parsePeerPublicKey } from "../../crypto/ecdh.ts";
import { internalError, invalidRequest, userError } from "../../framework/errors.ts";
import { genericNameRegex, type PathDefinition } from "../../framework/path.ts";
import type { LogicalRequest } from "../../framework/request.ts";
import { goPemDecode, goTrimSpace } from "../../gocompat/pem.ts";
import { keyEntry } from "../keyring/derive.ts";
import { ImportError, withImportedKey } from "../keyring/import.ts";
import { isEcdsa, type KeyType } from "../keyring/key-types.ts";
import { KDF_HMAC_SHA256_COUNTER, type Keyring, newKeyring } from "../keyring/keyring.ts";
import type { TransitState } from "../state.ts";

/** The derived key's size by type (derive-key's switch). */
const DERIVED_TYPES: Record<string, { type: KeyType; size: number }> = {
  "aes128-gcm96": { type: "aes128-gcm96", size: 16 },
  "aes256-gcm96": { type: "aes256-gcm96", size: 32 },
  "chacha20-poly1305": { type: "chacha20-poly1305", size: 32 },
  "xchacha20-poly1305": { type: "xchacha20-poly1305", size: 32 },
};

const CURVE_OF: Record<string, string> = {
  "ecdsa-p256": "P-256",
  "ecdsa-p384": "P-384",
  "ecdsa-p521": "P-521",
};

/**
 * OpenBao's derive-key/:name (transit path_derive_key.go, keysutil
 * DeriveKeyECDH): ECDH between the base key (an ECDSA key of this mount,
 * its own private key) and a peer's PEM public key, HKDF-SHA256 of the
 * shared secret, imported as a new version of the key `name` (created as
 * an imported, non-exportable key when missing). Answers 204. Texts and
 * statuses as OpenBao's: its checks before the agreement are 400s; a failed
 * import is a plain error (500). OpenBao does not refuse a soft-deleted base
 * key here (DeriveKeyECDH has no such check); a soft-deleted `name` refuses
 * the import.
 */
export function pathDeriveKey(t: TransitState): PathDefinition {
  return {
    pattern: `derive-key/${genericNameRegex("name")}`,
    fields: {
      name: { type: "string", description: "Name of the output derived key" },
      key_derivation_algorithm: {
        type: "string",
        default: "ecdh",
        description: 'Key derivation algorithm to use. Valid values are: * ecdh Defaults to "ecdh".',
      },
      peer_public_key: { type: "string", description: "The pem-encoded other party's ECC public key" },
      base_key_name: {
        type: "string",
        description: "Name of the base key to use for derivation (own private key for ECDH)",
      },
      base_key_version: {
        type: "int",
        description:
          "The version of the base key to use for derivation. Must be 0 (for latest) or a value greater than or equal to the min_derivation_version configured on the key.",
      },
      derived_key_type: {
        type: "string",
        default: "aes256-gcm96",
        description:
          'The type of the output derived key. Currently, "aes128-gcm96" , "aes256-gcm96", "chacha20-poly1305", "xchacha20-poly1305" are supported. Defaults to "aes256-gcm96".',
      },
    },
    operations: {
      update: async (req, d) => {
        const algorithm = d.get<"string">("key_derivation_algorithm");
        if (algorithm !== "ecdh") throw invalidRequest(`key derivation algorithm ${algorithm} not supported`);
        const peerPem = d.get<"string">("peer_public_key");
        if (peerPem === "") throw invalidRequest("peer public key not provided");
        const typeName = d.get<"string">("derived_key_type");
        const derived = DERIVED_TYPES[typeName.toLowerCase()];
        if (derived === undefined) throw invalidRequest(`unknown key type ${typeName}`);
        const base = await t.keyrings.get(req.storage, d.get<"string">("base_key_name"));
        if (base === null) throw invalidRequest("specified base key not found");
        if (!isEcdsa(base.type))
          throw invalidRequest(`base key type ${base.type} does not support key agreement`);
        const key = agree(base, d.get<"int">("base_key_version"), peerPem, derived.size);
        try {
          await importDerived(t, req, d.get<"string">("name"), derived.type, key);
        } finally {
          key.fill(0);
        }
        return null;
      },
    },
    helpSynopsis: "Derives a new key from a base key",
    helpDescription:
      "This path uses the named base key and derivation algorithm specific parameters to derive a new named key. When used with the ECDH key agreement algorithm, the base key is one's own ECC private key and the \"peer_public_key\" is the pem-encoded other party's ECC public key. The computed shared secret is the resulting derived key.",
  };
}

/** keysutil DeriveKeyECDH, with its checks in its order and words. */
function agree(base: Keyring, requested: number, peerPem: string, size: number): Buffer {
  let version = requested;
  if (version === 0) version = base.latestVersion;
  else if (version < 0) throw userError("requested version of the base key is negative");
  else if (version > base.latestVersion)
    throw userError("requested version of the base key is higher than the latest key version");
  else if (version < base.minAvailableVersion)
    throw userError("requested version of the base key is less than the minimum available key version");
  const entry = keyEntry(base, version);
  const peer = parsePeerPem(peerPem);
  if (peer.kind !== "ec") throw userError("supplied peer public key is not an ECDSA key");
  if (peer.curve !== CURVE_OF[base.type]) {
    throw userError(`base private key type ${base.type} does not match peer public key curve`);
  }
  if (entry.privateKey === undefined) throw internalError("crypto/ecdh: invalid private key");
  return ecdhDeriveKey(entry.privateKey, peer.key, size);
}

/** certutil.ParsePublicKeyPEM, its errors wrapped as DeriveKeyECDH wraps them (trailing space included). */
function parsePeerPem(pem: string): NonNullable<ReturnType<typeof parsePeerPublicKey>> {
  const fail = (why: string): never => {
    throw userError(`failed to parse supplied peer public key PEM: ${why} `);
  };
  const block = goPemDecode(pem);
  if (block === null) return fail("data does not contain any valid public keys");
  if (goTrimSpace(block.rest) !== "") return fail("unexpected trailing data after parsed PEM block");
  const peer = parsePeerPublicKey(block.bytes);
  if (peer === null) return fail("x509: malformed certificate");
  if (peer.kind !== "ec" && peer.kind !== "rsa" && peer.kind !== "ed25519")
    return fail("data does not contain any valid public keys");
  return peer;
}

/** keysutil LockManager.ImportPolicy: a new version of `name`, or a new imported key. */
async function importDerived(
  t: TransitState,
  req: LogicalRequest,
  name: string,
  type: KeyType,
  key: Uint8Array,
): Promise<void> {
  await t.keyrings.exclusive(name, async () => {
    let ring = await t.keyrings.get(req.storage, name);
    if (ring === null) {
      ring = newKeyring({ name, type });
      ring.kdf = KDF_HMAC_SHA256_COUNTER;
      ring.convergentVersion = 0;
      ring.imported = true;
    }
    let next: Keyring;
    try {
      next = withImportedKey(ring, key, true);
    } catch (e) {
      // Go's fmt.Errorf("error importing key: %s", err): a plain error, 500.
      if (e instanceof ImportError) throw internalError(`error importing key: ${e.message}`);
      throw e;
    }
    await t.keyrings.store(req.storage, next);
  });
}
