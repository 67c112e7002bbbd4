/**
 * byok-export/:destination/:source(/:version) against Vault's behaviour
 * (transit path_byok.go; keysutil Policy.WrapKey, wrapTargetPKCS8ForImport):
 * every blob is opened with independent code (node:crypto's OAEP
 * decryption with the destination's private key, an RFC 5649 unwrap
 * written here on AES-ECB) and must give exactly the source key's material
 * as export/ shows it. A blob made for another engine's wrapping key
 * imports there as the same key.
 */
import {
  constants,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  privateDecrypt,
} from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TestEngine } from "../helpers/engine.ts";

const dest = generateKeyPairSync("rsa", { modulusLength: 4096 });
const destPem = dest.publicKey.export({ format: "pem", type: "spki" }).toString();

/** RFC 5649 §4.2 unwrap (one block: plain AES; more: RFC 3394 W^-1), with the AIV checks. */
function kwpUnwrap(kek: Buffer, wrapped: Buffer): Buffer {
  const aes = (block: Buffer): Buffer => {
    const d = createDecipheriv(`aes-${kek.length * 8}-ecb`, kek, null);
    d.setAutoPadding(false);
    return Buffer.concat([d.update(block), d.final()]);
  };
  if (wrapped.length % 8 !== 0 || wrapped.length < 16) throw new Error("bad length");
  const n = wrapped.length / 8 - 1;
  let a: Buffer;
  const r: Buffer[] = [];
  if (n === 1) {
    const b = aes(wrapped);
    a = b.subarray(0, 8);
    r.push(b.subarray(8));
  } else {
    a = Buffer.from(wrapped.subarray(0, 8));
    for (let i = 1; i <= n; i++) r.push(Buffer.from(wrapped.subarray(8 * i, 8 * i + 8)));
    for (let j = 5; j >= 0; j--) {
      for (let i = n; i >= 1; i--) {
        const t = Buffer.alloc(8);
        t.writeBigUInt64BE(BigInt(n * j + i));
        for (let k = 0; k < 8; k++) a[k] = (a[k] as number) ^ (t[k] as number);
        const b = aes(Buffer.concat([a, r[i - 1] as Buffer]));
        a = Buffer.from(b.subarray(0, 8));
        r[i - 1] = Buffer.from(b.subarray(8));
      }
    }
  }
  if (a.subarray(0, 4).toString("hex") !== "a65959a6") throw new Error("bad AIV");
  const mli = a.readUInt32BE(4);
  const p = Buffer.concat(r);
  if (mli <= 8 * (n - 1) || mli > 8 * n) throw new Error("bad MLI");
  if (!p.subarray(mli).every((x) => x === 0)) throw new Error("bad padding");
  return p.subarray(0, mli);
}

/** Opens a BYOK blob: OAEP (hash for OAEP and MGF1, empty label) of an AES-256 key, then KWP. */
function openBlob(blob: string, key: KeyObject, oaepHash = "sha256"): Buffer {
  const raw = Buffer.from(blob, "base64");
  const k = key.asymmetricKeyDetails?.modulusLength ?? 0;
  const ephemeral = privateDecrypt(
    { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash },
    raw.subarray(0, k / 8),
  );
  expect(ephemeral.length).toBe(32);
  return kwpUnwrap(ephemeral, raw.subarray(k / 8));
}

async function engineWithDest(): Promise<TestEngine> {
  const e = new TestEngine();
  const r = await e.write("keys/dst/import", { type: "rsa-4096", public_key: destPem });
  expect(r.status).toBe(204);
  return e;
}

function exported(r: { data: Record<string, unknown> }, version = "1"): string {
  return String((r.data["keys"] as Record<string, string>)[version]);
}

describe("byok-export", () => {
  it("symmetric and HMAC keys: the raw key bytes, as export/ shows them", async () => {
    const e = await engineWithDest();
    for (const type of ["aes128-gcm96", "aes256-gcm96", "chacha20-poly1305", "hmac"]) {
      await e.write(`keys/${type}`, { type, exportable: true });
      const r = await e.read(`byok-export/dst/${type}`);
      expect(r.status).toBe(200);
      expect(r.data["name"]).toBe(type);
      expect(r.data["type"]).toBe(type);
      const key = openBlob(exported(r), dest.privateKey);
      const exportType = type === "hmac" ? "hmac-key" : "encryption-key";
      expect(key.toString("base64")).toBe(exported(await e.read(`export/${exportType}/${type}/1`)));
    }
  });

  it("asymmetric keys: PKCS #8 of the private key, as export/ shows it", async () => {
    const e = await engineWithDest();
    for (const type of ["ed25519", "ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "rsa-2048"]) {
      await e.write(`keys/${type}`, { type, exportable: true });
      const r = await e.read(`byok-export/dst/${type}/1`);
      expect(r.status).toBe(200);
      const pkcs8 = openBlob(exported(r), dest.privateKey);
      const key = createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" });
      const signingKey = exported(await e.read(`export/signing-key/${type}/1`));
      if (type === "ed25519") {
        const jwk = key.export({ format: "jwk" });
        expect(Buffer.from(jwk.d ?? "", "base64url")).toEqual(
          Buffer.from(signingKey, "base64").subarray(0, 32),
        );
        // Go's x509.MarshalPKCS8PrivateKey for Ed25519: the RFC 8410 form, 48 bytes.
        expect(pkcs8.length).toBe(48);
      } else {
        expect(key.export({ format: "jwk" })).toEqual(createPrivateKey(signingKey).export({ format: "jwk" }));
      }
    }
  });

  it("hash picks OAEP's hash (any case); every version, or the one named", async () => {
    const e = await engineWithDest();
    await e.write("keys/src", { type: "aes256-gcm96", exportable: true });
    await e.write("keys/src/rotate");
    const v1 = exported(await e.read("export/encryption-key/src/1"));
    const v2 = exported(await e.read("export/encryption-key/src/2"), "2");
    for (const [hash, oaep] of [
      ["SHA1", "sha1"],
      ["sha224", "sha224"],
      ["Sha384", "sha384"],
      ["SHA512", "sha512"],
    ] as const) {
      const r = await e.read("byok-export/dst/src", { hash });
      expect(Object.keys(r.data["keys"] as object).sort()).toEqual(["1", "2"]);
      expect(openBlob(exported(r, "1"), dest.privateKey, oaep).toString("base64")).toBe(v1);
      expect(openBlob(exported(r, "2"), dest.privateKey, oaep).toString("base64")).toBe(v2);
    }
    for (const version of ["latest", "v2", "2"]) {
      const r = await e.read(`byok-export/dst/src/${version}`);
      expect(Object.keys(r.data["keys"] as object)).toEqual(["2"]);
      expect(openBlob(exported(r, "2"), dest.privateKey).toString("base64")).toBe(v2);
    }
    await e.write("keys/src/config", { min_decryption_version: 2 });
    const all = await e.read("byok-export/dst/src");
    expect(Object.keys(all.data["keys"] as object)).toEqual(["2"]);
  });

  it("a transit RSA key of this engine as destination: its exported private key opens the blob", async () => {
    const e = new TestEngine();
    await e.write("keys/dst", { type: "rsa-2048", exportable: true });
    await e.write("keys/src", { type: "ecdsa-p256", exportable: true });
    const priv = createPrivateKey(exported(await e.read("export/encryption-key/dst/1")));
    const pkcs8 = openBlob(exported(await e.read("byok-export/dst/src")), priv);
    expect(createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" }).export({ format: "jwk" })).toEqual(
      createPrivateKey(exported(await e.read("export/signing-key/src/1"))).export({ format: "jwk" }),
    );
  });

  it("into another engine's wrapping key: the blob imports there as the same key", async () => {
    const a = new TestEngine();
    const b = new TestEngine();
    const wrapping = String((await b.read("wrapping_key")).data["public_key"]);
    expect((await a.write("keys/b-wrapping/import", { type: "rsa-4096", public_key: wrapping })).status).toBe(
      204,
    );
    for (const type of ["aes256-gcm96", "ed25519", "rsa-2048"]) {
      await a.write(`keys/${type}`, { type, exportable: true });
      const blob = exported(await a.read(`byok-export/b-wrapping/${type}`, { hash: "SHA512" }));
      const imported = await b.write(`keys/${type}/import`, {
        type,
        ciphertext: blob,
        hash_function: "SHA512",
      });
      expect(imported.status).toBe(204);
      if (type === "aes256-gcm96") {
        const ct = (await a.write(`encrypt/${type}`, { plaintext: Buffer.from("hi").toString("base64") }))
          .data;
        const pt = await b.write(`decrypt/${type}`, { ciphertext: ct["ciphertext"] });
        expect(pt.data["plaintext"]).toBe(Buffer.from("hi").toString("base64"));
      } else {
        const input = Buffer.from("message").toString("base64");
        const sig = (await a.write(`sign/${type}`, { input })).data["signature"];
        expect((await b.write(`verify/${type}`, { input, signature: sig })).data["valid"]).toBe(true);
      }
    }
  });

  it("errors as Vault's, with Vault's statuses (its plain errors are 500s)", async () => {
    const e = await engineWithDest();
    await e.write("keys/src", { type: "aes256-gcm96", exportable: true });
    await e.write("keys/locked", { type: "aes256-gcm96" });
    await e.write("keys/aes-dst", { type: "aes256-gcm96" });
    await e.write("keys/ec-dst", { type: "ecdsa-p256" });
    const pub = generateKeyPairSync("ed25519").publicKey.export({ format: "pem", type: "spki" });
    await e.write("keys/pub-only/import", { type: "ed25519", public_key: pub, exportable: true });
    const cases: [string, Record<string, unknown>, string][] = [
      ["byok-export/nope/src", {}, "no such destination key to export to"],
      ["byok-export/dst/nope", {}, "no such source key for export"],
      ["byok-export/nope/nope", {}, "no such destination key to export to"],
      ["byok-export/dst/locked", {}, "key is not exportable"],
      ["byok-export/aes-dst/src", {}, "message signing not supported for key type aes256-gcm96"],
      ["byok-export/ec-dst/src", {}, "unsupported key type in use; must be a rsa key"],
      ["byok-export/dst/src", { hash: "md5" }, "unknown hash function: md5"],
      ["byok-export/dst/src/abc", {}, "invalid key version"],
      ["byok-export/dst/src/7", {}, "version does not exist or cannot be found"],
      ["byok-export/dst/src/0", {}, "version for export is below minimum decryption version"],
      ["byok-export/dst/pub-only", {}, "private key not imported for key version selected"],
    ];
    // ErrorResponses in path_byok.go (400); a panic in Vault for the public-only source (400 here).
    const badRequests = new Set([
      "key is not exportable",
      "invalid key version",
      "version does not exist or cannot be found",
      "version for export is below minimum decryption version",
      "private key not imported for key version selected",
    ]);
    for (const [path, body, error] of cases) {
      const r = await e.read(path, body);
      expect([path, r.status, r.error]).toEqual([path, badRequests.has(error) ? 400 : 500, error]);
    }
  });

  it("the destination's public key is what wraps: its latest version", async () => {
    const e = new TestEngine();
    await e.write("keys/dst", { type: "rsa-2048", exportable: true });
    await e.write("keys/dst/rotate");
    await e.write("keys/src", { type: "aes128-gcm96", exportable: true });
    const blob = Buffer.from(exported(await e.read("byok-export/dst/src")), "base64");
    // RSA-2048: a 256-byte OAEP block, then KWP of 16 bytes (24).
    expect(blob.length).toBe(256 + 24);
    const v2 = createPrivateKey(exported(await e.read("export/encryption-key/dst/2"), "2"));
    expect(createPublicKey(v2).export({ format: "jwk" }).n).toBeDefined();
    expect(openBlob(blob.toString("base64"), v2).toString("base64")).toBe(
      exported(await e.read("export/encryption-key/src/1")),
    );
  });

  const PLAIN_500 =
    /^(no such (destination|source) key|unknown hash function: |message signing not supported|unsupported key type in use)/;
  it("any hash, version and key pairing: a 200, a 400, or one of Vault's plain-error 500s", async () => {
    const e = await engineWithDest();
    for (const type of ["aes256-gcm96", "hmac", "ed25519", "ecdsa-p256"]) {
      await e.write(`keys/${type}`, { type, exportable: true });
    }
    await e.write("keys/locked", { type: "rsa-2048" });
    const names = ["dst", "aes256-gcm96", "hmac", "ed25519", "ecdsa-p256", "locked", "nope"];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...names),
        fc.constantFrom(...names),
        fc.oneof(
          fc.constantFrom("", "/1", "/latest", "/v1", "/0", "/-1", "/+1", "/99", "/1.5"),
          fc.string().map((v) => `/${v}`),
        ),
        fc.oneof(
          fc.constantFrom("sha256", "SHA1", "sha3-256", ""),
          fc.string(),
          fc.integer(),
          fc.constant(null),
        ),
        async (dst, src, version, hash) => {
          const r = await e.read(`byok-export/${dst}/${src}${version}`, { hash });
          if (r.status === 500) expect(r.error).toMatch(PLAIN_500);
          else expect([200, 400, 404, 405]).toContain(r.status);
        },
      ),
      { numRuns: 300 },
    );
  });
});
