import { generateKeyPair, generateKeyPairSync, randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { internalError } from "../../framework/errors.ts";
import {
  HMAC_MAX_KEY_SIZE,
  HMAC_MIN_KEY_SIZE,
  isEcdsa,
  isRsa,
  isSymmetric,
  type KeyType,
  rsaBits,
} from "./key-types.ts";
import { CURRENT_CONVERGENT_VERSION, type Keyring, type KeyVersion, nowRfc3339 } from "./keyring.ts";

const generateKeyPairAsync = promisify(generateKeyPair);

const CURVE: Record<"ecdsa-p256" | "ecdsa-p384" | "ecdsa-p521", string> = {
  "ecdsa-p256": "P-256",
  "ecdsa-p384": "P-384",
  "ecdsa-p521": "P-521",
};

/**
 * Fresh key material for a new version (keysutil RotateInMemory), from the
 * CSPRNG. RSA generation runs off the event loop.
 */
export async function generateKeyVersion(ring: Keyring): Promise<KeyVersion> {
  const entry: KeyVersion = { creationTime: nowRfc3339(), hmacKey: randomBytes(32) };
  const type: KeyType = ring.type;
  if (isSymmetric(type)) {
    entry.key = randomBytes(type === "aes128-gcm96" ? 16 : 32);
  } else if (type === "hmac") {
    if (ring.keySize < HMAC_MIN_KEY_SIZE || ring.keySize > HMAC_MAX_KEY_SIZE) {
      throw internalError(
        `invalid key size for HMAC key, must be between ${HMAC_MIN_KEY_SIZE} and ${HMAC_MAX_KEY_SIZE} bytes`,
      );
    }
    entry.key = randomBytes(ring.keySize);
    entry.hmacKey = entry.key;
  } else if (type === "ed25519") {
    const { privateKey } = generateKeyPairSync("ed25519");
    const jwk = privateKey.export({ format: "jwk" });
    const seed = Buffer.from(jwk.d ?? "", "base64url");
    const pub = Buffer.from(jwk.x ?? "", "base64url");
    entry.key = Buffer.concat([seed, pub]);
    entry.formattedPublicKey = pub.toString("base64");
  } else if (isEcdsa(type)) {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: CURVE[type] });
    entry.privateKey = privateKey.export({ format: "der", type: "pkcs8" });
    entry.publicKey = publicKey.export({ format: "der", type: "spki" });
    entry.formattedPublicKey = publicKey.export({ format: "pem", type: "spki" }).toString();
  } else if (isRsa(type)) {
    const { privateKey, publicKey } = await generateKeyPairAsync("rsa", { modulusLength: rsaBits(type) });
    entry.privateKey = privateKey.export({ format: "der", type: "pkcs8" });
    entry.publicKey = publicKey.export({ format: "der", type: "spki" });
  }
  if (ring.convergentEncryption && (ring.convergentVersion === -1 || ring.convergentVersion > 1)) {
    entry.convergentVersion = CURRENT_CONVERGENT_VERSION;
  }
  return entry;
}
