import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { encodeKeyring } from "../../src/transit/keyring/codec.ts";
import type { KeyType } from "../../src/transit/keyring/key-types.ts";
import { type KeyVersion, newKeyring } from "../../src/transit/keyring/keyring.ts";
import type { TestEngine } from "../helpers/engine.ts";

/**
 * Plants a keyring whose versions hold keys made outside the engine (by
 * node:crypto or from published vectors), so tests know the private key.
 */
export function versionFromKeyObject(type: KeyType, privateKey: KeyObject): KeyVersion {
  const entry: KeyVersion = { creationTime: "2024-01-02T03:04:05Z", hmacKey: new Uint8Array(32).fill(7) };
  if (type === "ed25519") {
    const jwk = privateKey.export({ format: "jwk" });
    const seed = Buffer.from(jwk.d ?? "", "base64url");
    const pub = Buffer.from(jwk.x ?? "", "base64url");
    entry.key = Buffer.concat([seed, pub]);
    entry.formattedPublicKey = pub.toString("base64");
    return entry;
  }
  const pub = createPublicKey(privateKey);
  entry.privateKey = privateKey.export({ format: "der", type: "pkcs8" });
  entry.publicKey = pub.export({ format: "der", type: "spki" });
  if (type.startsWith("ecdsa-"))
    entry.formattedPublicKey = pub.export({ format: "pem", type: "spki" }).toString();
  return entry;
}

export function plantKeyring(
  engine: TestEngine,
  name: string,
  type: KeyType,
  keys: KeyObject[],
  opts: { derived?: boolean; exportable?: boolean } = {},
): void {
  const ring = newKeyring({
    name,
    type,
    derived: opts.derived ?? false,
    exportable: opts.exportable ?? false,
  });
  keys.forEach((k, i) => {
    ring.versions.set(i + 1, versionFromKeyObject(type, k));
  });
  ring.latestVersion = keys.length;
  ring.minDecryptionVersion = 1;
  engine.storage.entries.set(`policy/${name}`, encodeKeyring(ring));
}

const ED25519_PKCS8_PREFIX = "302e020100300506032b657004220420";

export function ed25519FromSeed(seedHex: string): KeyObject {
  return createPrivateKey({
    key: Buffer.from(ED25519_PKCS8_PREFIX + seedHex, "hex"),
    format: "der",
    type: "pkcs8",
  });
}

export function p256FromScalar(dHex: string, xHex: string, yHex: string): KeyObject {
  const b64u = (h: string) => Buffer.from(h, "hex").toString("base64url");
  return createPrivateKey({
    key: { kty: "EC", crv: "P-256", d: b64u(dHex), x: b64u(xHex), y: b64u(yHex) },
    format: "jwk",
  });
}
