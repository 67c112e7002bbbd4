import { publicKeyPem } from "../../crypto/encodings.ts";
import {
  generateEcdsa,
  generateEd25519,
  generateHmacKey,
  generateRsa,
  generateSymmetricKey,
  type RsaBits,
} from "../../crypto/keys.ts";
import { internalError } from "../../framework/errors.ts";
import {
  HMAC_MAX_KEY_SIZE,
  HMAC_MIN_KEY_SIZE,
  isEcdsa,
  isHmacKeySize,
  isPqSigning,
  isRsa,
  isSymmetric,
  type KeyType,
  rawAesKeySize,
  rsaBits,
  symmetricKeySize,
} from "./key-types.ts";
import { CURRENT_CONVERGENT_VERSION, type Keyring, type KeyVersion, nowRfc3339 } from "./keyring.ts";
import { generatePqVersion } from "./pq-keys.ts";

const CURVE = { "ecdsa-p256": "p256", "ecdsa-p384": "p384", "ecdsa-p521": "p521" } as const;

/**
 * Fresh key material for a new version (keysutil RotateInMemory), from the
 * CSPRNG. RSA generation runs off the event loop.
 */
export async function generateKeyVersion(ring: Keyring): Promise<KeyVersion> {
  const entry: KeyVersion = { creationTime: nowRfc3339(), hmacKey: generateSymmetricKey(32) };
  const type: KeyType = ring.type;
  if (isSymmetric(type)) {
    entry.key = generateSymmetricKey(symmetricKeySize(type));
  } else if (type === "hmac") {
    if (!isHmacKeySize(ring.keySize)) {
      throw internalError(
        `invalid key size for HMAC key, must be between ${HMAC_MIN_KEY_SIZE} and ${HMAC_MAX_KEY_SIZE} bytes`,
      );
    }
    entry.key = generateHmacKey(ring.keySize);
    entry.hmacKey = entry.key;
  } else if (type === "ed25519") {
    const { privateKey, publicKey } = generateEd25519();
    entry.key = privateKey;
    entry.formattedPublicKey = publicKey.toString("base64");
  } else if (isEcdsa(type)) {
    const { privateKey, publicKey } = generateEcdsa(CURVE[type]);
    entry.privateKey = privateKey;
    entry.publicKey = publicKey;
    entry.formattedPublicKey = publicKeyPem(publicKey);
  } else if (isRsa(type)) {
    const { privateKey, publicKey } = await generateRsa(rsaBits(type) as RsaBits);
    entry.privateKey = privateKey;
    entry.publicKey = publicKey;
  } else if (rawAesKeySize(type) > 0) {
    entry.key = generateSymmetricKey(rawAesKeySize(type));
  } else if (isPqSigning(type)) {
    Object.assign(entry, generatePqVersion(ring));
  }
  if (ring.convergentEncryption && (ring.convergentVersion === -1 || ring.convergentVersion > 1)) {
    entry.convergentVersion = CURRENT_CONVERGENT_VERSION;
  }
  return entry;
}
