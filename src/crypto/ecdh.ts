import { createPrivateKey, createPublicKey, diffieHellman, hkdfSync, type KeyObject } from "node:crypto";

/**
 * ECDH key agreement for OpenBao's transit derive-key (keysutil
 * DeriveKeyECDH): the shared secret of an own NIST-curve private key and a
 * peer's public key (Go's crypto/ecdh: the x-coordinate, field-size
 * big-endian), then HKDF-SHA256 with no salt and no info, truncated to the
 * derived key's size. Errors carry no key bytes.
 */

export type EcdhCurve = "P-256" | "P-384" | "P-521";

export interface PeerKey {
  /** "ec" with its curve, or the other key type Go would have parsed ("rsa", "ed25519"). */
  kind: string;
  curve?: string;
  key: KeyObject;
}

/** The public key in a PKIX "PUBLIC KEY" or certificate DER; null when it is neither. */
export function parsePeerPublicKey(der: Uint8Array): PeerKey | null {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(der), format: "der", type: "spki" });
  } catch {
    try {
      key = createPublicKey({ key: pemOf("CERTIFICATE", der), format: "pem" });
    } catch {
      return null;
    }
  }
  const kind = key.asymmetricKeyType ?? "";
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const named: Record<string, EcdhCurve> = { prime256v1: "P-256", secp384r1: "P-384", secp521r1: "P-521" };
  return curve === undefined ? { kind, key } : { kind, curve: named[curve] ?? curve, key };
}

function pemOf(label: string, der: Uint8Array): string {
  return `-----BEGIN ${label}-----\n${Buffer.from(der).toString("base64")}\n-----END ${label}-----\n`;
}

/** HKDF-SHA256(ECDH(own, peer), salt = none, info = none) of `size` bytes. */
export function ecdhDeriveKey(ownPkcs8: Uint8Array, peer: KeyObject, size: number): Buffer {
  const own = createPrivateKey({ key: Buffer.from(ownPkcs8), format: "der", type: "pkcs8" });
  const shared = diffieHellman({ privateKey: own, publicKey: peer });
  try {
    return Buffer.from(hkdfSync("sha256", shared, Buffer.alloc(0), Buffer.alloc(0), size));
  } finally {
    shared.fill(0);
  }
}
