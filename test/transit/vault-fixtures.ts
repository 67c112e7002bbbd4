/**
 * Independent helpers for export/backup/import tests: Vault's ciphertext
 * format and key derivations written directly against node:crypto (not the
 * engine's modules), and Go-encoding/json-shaped text for keysutil.KeyData.
 */
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  hkdfSync,
  type KeyObject,
  publicEncrypt,
  randomBytes,
  verify,
} from "node:crypto";

export type SymType = "aes128-gcm96" | "aes256-gcm96" | "chacha20-poly1305";

function cipherName(type: SymType): "aes-128-gcm" | "aes-256-gcm" | "chacha20-poly1305" {
  return type === "aes128-gcm96"
    ? "aes-128-gcm"
    : type === "aes256-gcm96"
      ? "aes-256-gcm"
      : "chacha20-poly1305";
}

/** vault:vN:base64(nonce | ciphertext | tag), random 12-byte nonce. */
export function vaultSeal(
  type: SymType,
  key: Buffer,
  version: number,
  plaintext: Buffer,
  aad?: Buffer,
): string {
  const nonce = randomBytes(12);
  // biome-ignore lint/suspicious/noExplicitAny: GCM and ChaCha20-Poly1305 share the AEAD surface
  const c: any = createCipheriv(cipherName(type), key, nonce, { authTagLength: 16 } as never);
  if (aad !== undefined) c.setAAD(aad, { plaintextLength: plaintext.length });
  const body = Buffer.concat([c.update(plaintext), c.final()]);
  return `vault:v${version}:${Buffer.concat([nonce, body, c.getAuthTag()]).toString("base64")}`;
}

export function vaultOpen(type: SymType, key: Buffer, ciphertext: string, aad?: Buffer): Buffer {
  const m = /^vault:v(\d+):(.*)$/.exec(ciphertext);
  if (m === null) throw new Error("not a vault ciphertext");
  const raw = Buffer.from(m[2] ?? "", "base64");
  const nonce = raw.subarray(0, 12);
  const tag = raw.subarray(raw.length - 16);
  // biome-ignore lint/suspicious/noExplicitAny: as above
  const d: any = createDecipheriv(cipherName(type), key, nonce, { authTagLength: 16 } as never);
  if (aad !== undefined) d.setAAD(aad, { plaintextLength: raw.length - 28 });
  d.setAuthTag(tag);
  return Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]);
}

/** keysutil GetKey with Kdf_hkdf_sha256: HKDF-SHA256, no salt, info = context. */
export function hkdfKey(key: Buffer, context: Buffer, length: number): Buffer {
  return Buffer.from(hkdfSync("sha256", key, Buffer.alloc(0), context, length));
}

/** keysutil GetKey with Kdf_hmac_sha256_counter (sdk/helper/kdf CounterMode, 256 bits, counter from 0). */
export function counterKdfKey(key: Buffer, context: Buffer): Buffer {
  const input = Buffer.alloc(8 + context.length);
  context.copy(input, 4);
  input.writeUInt32BE(256, 4 + context.length);
  input.writeUInt32BE(0, 0);
  return createHmac("sha256", key).update(input).digest();
}

export function rsaOaepVault(publicKey: KeyObject, plaintext: Buffer, version = 1): string {
  const ct = publicEncrypt(
    { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
    plaintext,
  );
  return `vault:v${version}:${ct.toString("base64")}`;
}

export function rsaPkcs1Vault(publicKey: KeyObject, plaintext: Buffer, version = 1): string {
  const ct = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, plaintext);
  return `vault:v${version}:${ct.toString("base64")}`;
}

/** Verifies a vault:vN: signature of `input` (default options: sha2-256, asn1, PSS auto salt). */
export function verifyVaultSignature(
  type: string,
  publicKey: KeyObject,
  input: Buffer,
  signature: string,
): boolean {
  const sig = Buffer.from(signature.replace(/^vault:v\d+:/, ""), "base64");
  if (type === "ed25519") return verify(null, input, publicKey, sig);
  if (type.startsWith("rsa-")) {
    return verify(
      "sha256",
      input,
      {
        key: publicKey,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: constants.RSA_PSS_SALTLEN_AUTO,
      },
      sig,
    );
  }
  return verify("sha256", input, publicKey, sig);
}

/** A JWK parameter as the decimal text Go's big.Int MarshalJSON writes. */
export function bigDecimal(jwkValue: string | undefined): string {
  const hex = Buffer.from(jwkValue ?? "", "base64url").toString("hex");
  return BigInt(`0x${hex === "" ? "0" : hex}`).toString(10);
}

/** Go's rsa.PrivateKey JSON ({"N","E","D","Primes","Precomputed"}), hand-assembled from a node key. */
export function goRsaPrivateKeyJson(key: KeyObject): string {
  const j = key.export({ format: "jwk" }) as Record<string, string>;
  const e = bigDecimal(j["e"]);
  return (
    `{"N":${bigDecimal(j["n"])},"E":${e},"D":${bigDecimal(j["d"])},` +
    `"Primes":[${bigDecimal(j["p"])},${bigDecimal(j["q"])}],` +
    `"Precomputed":{"Dp":${bigDecimal(j["dp"])},"Dq":${bigDecimal(j["dq"])},"Qinv":${bigDecimal(j["qi"])},"CRTValues":[]}}`
  );
}

export function goRsaPublicKeyJson(key: KeyObject): string {
  const j = createPublicKey(key).export({ format: "jwk" }) as Record<string, string>;
  return `{"N":${bigDecimal(j["n"])},"E":${bigDecimal(j["e"])}}`;
}

/** Go's pem.EncodeToMemory of an SPKI public key. */
export function goPublicPem(key: KeyObject): string {
  return createPublicKey(key).export({ format: "pem", type: "spki" }).toString();
}

/** The 64-byte Go ed25519.PrivateKey (seed || public) of a node key. */
export function goEd25519Private(key: KeyObject): Buffer {
  const j = key.export({ format: "jwk" });
  return Buffer.concat([Buffer.from(j.d ?? "", "base64url"), Buffer.from(j.x ?? "", "base64url")]);
}

export function keyFromPem(pem: string): KeyObject {
  return pem.includes("PRIVATE") ? createPrivateKey(pem) : createPublicKey(pem);
}

/** Go's json.Marshal of a string: HTML-safe escaping. */
export function goStr(s: string): string {
  return JSON.stringify(s).replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/&/g, "\\u0026");
}

export const b64 = (b: Uint8Array | string): string => Buffer.from(b).toString("base64");
