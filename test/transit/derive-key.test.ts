/**
 * OpenBao's derive-key/:name (internal/builtin/logical/transit/path_derive_key.go,
 * keysutil DeriveKeyECDH): ECDH with the mount's ECDSA key and a peer's
 * public key, HKDF-SHA256 (no salt, no info), imported as `name`. The
 * expected key is computed from the peer's side with @noble/curves and
 * @noble/hashes, and checked by decrypting what the engine encrypts with it.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { p256, p384, p521 } from "@noble/curves/nist.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { describe, expect, it } from "vitest";
import { b64, TestEngine, unb64 } from "../helpers/engine.ts";
import { vaultOpen } from "./vault-fixtures.ts";

const CURVES = {
  "ecdsa-p256": { noble: p256, node: "P-256" },
  "ecdsa-p384": { noble: p384, node: "P-384" },
  "ecdsa-p521": { noble: p521, node: "P-521" },
} as const;

function peer(curve: string): { priv: KeyObject; pem: string; scalar: Uint8Array } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: curve });
  const d = Buffer.from(privateKey.export({ format: "jwk" }).d ?? "", "base64url");
  return { priv: privateKey, pem: publicKey.export({ format: "pem", type: "spki" }).toString(), scalar: d };
}

/** The peer's view: HKDF-SHA256(x of d_peer * Q_base, no salt, no info). */
function expected(type: keyof typeof CURVES, basePem: string, peerScalar: Uint8Array, size: number): Buffer {
  const jwk = createPublicKey(basePem).export({ format: "jwk" });
  const point = Buffer.concat([
    Buffer.from([4]),
    Buffer.from(jwk.x ?? "", "base64url"),
    Buffer.from(jwk.y ?? "", "base64url"),
  ]);
  const shared = CURVES[type].noble.getSharedSecret(peerScalar, point, true).subarray(1);
  return Buffer.from(hkdf(sha256, shared, undefined, undefined, size));
}

async function basePublicPem(e: TestEngine, name: string, version = 1): Promise<string> {
  const r = await e.read(`export/public-key/${name}/${version}`);
  return (r.data["keys"] as Record<string, string>)[String(version)] as string;
}

describe("derive-key (OpenBao ECDH)", () => {
  for (const type of Object.keys(CURVES) as (keyof typeof CURVES)[]) {
    it(`${type}: the derived key is the peer's ECDH + HKDF-SHA256, imported as a new key`, async () => {
      const e = new TestEngine();
      await e.write("keys/base", { type });
      const p = peer(CURVES[type].node);
      const r = await e.write("derive-key/shared", { base_key_name: "base", peer_public_key: p.pem });
      expect([r.status, r.error]).toEqual([204, null]);
      const read = await e.read("keys/shared");
      expect(read.data["type"]).toBe("aes256-gcm96");
      expect(read.data["imported_key"]).toBe(true);
      expect(read.data["exportable"]).toBe(false);
      const key = expected(type, await basePublicPem(e, "base"), p.scalar, 32);
      const ct = String((await e.write("encrypt/shared", { plaintext: b64("agreed") })).data["ciphertext"]);
      expect(vaultOpen("aes256-gcm96", key, ct).toString()).toBe("agreed");
    });
  }

  it("derives each type's size, and a second derivation adds a version to the same key", async () => {
    const e = new TestEngine();
    await e.write("keys/base", { type: "ecdsa-p256" });
    await e.write("keys/base/rotate");
    const p = peer("P-256");
    const r = await e.write("derive-key/x", {
      base_key_name: "base",
      base_key_version: 1,
      peer_public_key: p.pem,
      derived_key_type: "XChaCha20-Poly1305",
    });
    expect(r.status).toBe(204);
    const v1 = expected("ecdsa-p256", await basePublicPem(e, "base", 1), p.scalar, 32);
    const ct = String((await e.write("encrypt/x", { plaintext: b64("x1") })).data["ciphertext"]);
    const raw = unb64(ct.slice("vault:v1:".length));
    expect(Buffer.from(xchacha20poly1305(v1, raw.subarray(0, 24)).decrypt(raw.subarray(24))).toString()).toBe(
      "x1",
    );

    await e.write("derive-key/a128", {
      base_key_name: "base",
      peer_public_key: p.pem,
      derived_key_type: "aes128-gcm96",
    });
    const latest = expected("ecdsa-p256", await basePublicPem(e, "base", 2), p.scalar, 16);
    const ct128 = String((await e.write("encrypt/a128", { plaintext: b64("small") })).data["ciphertext"]);
    expect(vaultOpen("aes128-gcm96", latest, ct128).toString()).toBe("small");

    const again = await e.write("derive-key/x", {
      base_key_name: "base",
      peer_public_key: peer("P-256").pem,
      derived_key_type: "xchacha20-poly1305",
    });
    expect(again.status).toBe(204);
    expect((await e.read("keys/x")).data["latest_version"]).toBe(2);
    const wrongSize = await e.write("derive-key/a128", { base_key_name: "base", peer_public_key: p.pem });
    expect([wrongSize.status, wrongSize.error]).toEqual([
      500,
      "error importing key: invalid key size 32 bytes for key type aes128-gcm96",
    ]);
    // A soft-deleted destination refuses the import (OpenBao: a plain error, 500); the base key's
    // state is not checked by DeriveKeyECDH.
    await e.request("delete", "keys/x/soft-delete");
    await e.request("delete", "keys/base/soft-delete");
    const softDeleted = await e.write("derive-key/x", {
      base_key_name: "base",
      peer_public_key: p.pem,
      derived_key_type: "xchacha20-poly1305",
    });
    expect([softDeleted.status, softDeleted.error]).toEqual([
      500,
      "error importing key: refusing to use soft-deleted key",
    ]);
    expect(
      (await e.write("derive-key/fresh", { base_key_name: "base", peer_public_key: p.pem })).status,
    ).toBe(204);
  });

  it("refuses as OpenBao does, with its texts", async () => {
    const e = new TestEngine();
    await e.write("keys/base", { type: "ecdsa-p256" });
    await e.write("keys/rsa", { type: "rsa-2048" });
    const p256Pem = peer("P-256").pem;
    const p384Pem = peer("P-384").pem;
    const rsaPem = generateKeyPairSync("rsa", { modulusLength: 2048 })
      .publicKey.export({ format: "pem", type: "spki" })
      .toString();
    const edPem = createPublicKey(
      createPrivateKey(generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" })),
    )
      .export({ format: "pem", type: "spki" })
      .toString();
    const cases: [Record<string, unknown>, number, string][] = [
      [
        { key_derivation_algorithm: "x963", base_key_name: "base", peer_public_key: p256Pem },
        400,
        "key derivation algorithm x963 not supported",
      ],
      [{ base_key_name: "base" }, 400, "peer public key not provided"],
      [
        { base_key_name: "base", peer_public_key: p256Pem, derived_key_type: "rsa-2048" },
        400,
        "unknown key type rsa-2048",
      ],
      [{ base_key_name: "nope", peer_public_key: p256Pem }, 400, "specified base key not found"],
      [
        { base_key_name: "rsa", peer_public_key: p256Pem },
        400,
        "base key type rsa-2048 does not support key agreement",
      ],
      [
        { base_key_name: "base", base_key_version: -1, peer_public_key: p256Pem },
        400,
        "requested version of the base key is negative",
      ],
      [
        { base_key_name: "base", base_key_version: 2, peer_public_key: p256Pem },
        400,
        "requested version of the base key is higher than the latest key version",
      ],
      [
        { base_key_name: "base", peer_public_key: p384Pem },
        400,
        "base private key type ecdsa-p256 does not match peer public key curve",
      ],
      [
        { base_key_name: "base", peer_public_key: rsaPem },
        400,
        "supplied peer public key is not an ECDSA key",
      ],
      [
        { base_key_name: "base", peer_public_key: edPem },
        400,
        "supplied peer public key is not an ECDSA key",
      ],
      [
        { base_key_name: "base", peer_public_key: "not pem" },
        400,
        "failed to parse supplied peer public key PEM: data does not contain any valid public keys ",
      ],
      [
        { base_key_name: "base", peer_public_key: `${p256Pem}trailing` },
        400,
        "failed to parse supplied peer public key PEM: unexpected trailing data after parsed PEM block ",
      ],
    ];
    for (const [data, status, error] of cases) {
      const r = await e.write("derive-key/out", data);
      expect([data, r.status, r.error]).toEqual([data, status, error]);
    }
    expect((await e.read("keys/out")).status).toBe(404);
  });
});
