/**
 * sign/ and verify/ for every asymmetric type: round trips for each allowed
 * hash and marshaling, signatures checked by independent implementations
 * (node:crypto/OpenSSL, the OpenSSL CLI), published vectors (RFC 8032,
 * RFC 6979) and Wycheproof-style malformed signatures, tampering, derived
 * ed25519, batches, and bad input that must change nothing.
 */
import { execFileSync } from "node:child_process";
import {
  constants,
  createHash,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
} from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { b64, TestEngine, unb64 } from "../helpers/engine.ts";
import { ed25519FromSeed, p256FromScalar, plantKeyring } from "./asym-fixtures.ts";

const DIGESTS = [
  "sha1",
  "sha2-224",
  "sha2-256",
  "sha2-384",
  "sha2-512",
  "sha3-224",
  "sha3-256",
  "sha3-384",
  "sha3-512",
];
const NODE_HASH: Record<string, string> = {
  sha1: "sha1",
  "sha2-224": "sha224",
  "sha2-256": "sha256",
  "sha2-384": "sha384",
  "sha2-512": "sha512",
  "sha3-224": "sha3-224",
  "sha3-256": "sha3-256",
  "sha3-384": "sha3-384",
  "sha3-512": "sha3-512",
};
const MSG = Buffer.from("the quick brown fox jumps over the lazy dog");

function sigBytes(signature: unknown, marshaling = "asn1"): Buffer {
  const payload = String(signature).split(":")[2] ?? "";
  return Buffer.from(payload, marshaling === "jws" ? "base64url" : "base64");
}

function tamper(signature: unknown): string {
  const s = String(signature);
  const parts = s.split(":");
  const bytes = Buffer.from(parts[2] ?? "", "base64");
  bytes[Math.floor(bytes.length / 2)] = (bytes[Math.floor(bytes.length / 2)] ?? 0) ^ 0x01;
  return `${parts[0]}:${parts[1]}:${bytes.toString("base64")}`;
}

let hasOpenssl = false;
try {
  execFileSync("openssl", ["version"], { stdio: "ignore" });
  hasOpenssl = true;
} catch {
  hasOpenssl = false;
}

describe("round trips for every type, hash and marshaling", () => {
  const e = new TestEngine();
  const ecdsa = ["ecdsa-p256", "ecdsa-p384", "ecdsa-p521"];
  const rsa = ["rsa-2048", "rsa-3072", "rsa-4096"];
  const publicKeys = new Map<string, KeyObject>();

  beforeAll(async () => {
    for (const type of ["ed25519", ...ecdsa, ...rsa]) {
      const created = await e.write(`keys/${type}`, { type });
      expect(created.status).toBe(200);
      const read = await e.read(`keys/${type}`);
      const v1 = (read.data["keys"] as Record<string, Record<string, unknown>>)["1"] ?? {};
      const pem = String(v1["public_key"]);
      publicKeys.set(
        type,
        type === "ed25519"
          ? createPublicKey({
              key: Buffer.concat([
                Buffer.from("302a300506032b6570032100", "hex"),
                Buffer.from(pem, "base64"),
              ]),
              format: "der",
              type: "spki",
            })
          : createPublicKey(pem),
      );
    }
  }, 120_000);

  it("reads each asymmetric key as Vault shows it", async () => {
    for (const [type, name] of [
      ["ed25519", "ed25519"],
      ["ecdsa-p256", "P-256"],
      ["ecdsa-p384", "P-384"],
      ["ecdsa-p521", "P-521"],
      ["rsa-2048", "rsa-2048"],
    ] as const) {
      const r = await e.read(`keys/${type}`);
      expect(r.data["supports_signing"]).toBe(true);
      expect(r.data["supports_encryption"]).toBe(type.startsWith("rsa"));
      expect(r.data["supports_derivation"]).toBe(type === "ed25519");
      const v1 = (r.data["keys"] as Record<string, Record<string, unknown>>)["1"] ?? {};
      expect(v1["name"]).toBe(name);
      expect(Number.isNaN(Date.parse(String(v1["creation_time"])))).toBe(false);
    }
  });

  for (const type of ecdsa) {
    for (const hash of DIGESTS) {
      for (const marshaling of ["asn1", "jws"]) {
        it(`${type} ${hash} ${marshaling}: verifies here and in node:crypto; tampering fails`, async () => {
          const s = await e.write(`sign/${type}/${hash}`, {
            input: b64(MSG),
            marshaling_algorithm: marshaling,
          });
          expect(s.status).toBe(200);
          expect(String(s.data["signature"])).toMatch(/^vault:v1:/);
          expect(s.data["key_version"]).toBe(1);
          const ok = await e.write(`verify/${type}/${hash}`, {
            input: b64(MSG),
            signature: s.data["signature"],
            marshaling_algorithm: marshaling,
          });
          expect(ok.data).toEqual({ valid: true });
          const independent = nodeVerify(
            NODE_HASH[hash] ?? "",
            MSG,
            {
              key: publicKeys.get(type) as KeyObject,
              dsaEncoding: marshaling === "jws" ? "ieee-p1363" : "der",
            },
            sigBytes(s.data["signature"], marshaling),
          );
          expect(independent).toBe(true);
          const wrongInput = await e.write(`verify/${type}/${hash}`, {
            input: b64("another message"),
            signature: s.data["signature"],
            marshaling_algorithm: marshaling,
          });
          expect(wrongInput.data).toEqual({ valid: false });
        });
      }
    }
  }

  for (const type of rsa) {
    const hashes = type === "rsa-2048" ? DIGESTS : ["sha2-256", "sha3-512"];
    for (const hash of hashes) {
      for (const algorithm of ["pss", "pkcs1v15"]) {
        it(`${type} ${hash} ${algorithm}: verifies here and in node:crypto; tampering fails`, async () => {
          const s = await e.write(`sign/${type}`, {
            input: b64(MSG),
            hash_algorithm: hash,
            signature_algorithm: algorithm,
          });
          expect(s.status).toBe(200);
          const ok = await e.write(`verify/${type}`, {
            input: b64(MSG),
            hash_algorithm: hash,
            signature_algorithm: algorithm,
            signature: s.data["signature"],
          });
          expect(ok.data).toEqual({ valid: true });
          const independent = nodeVerify(
            NODE_HASH[hash] ?? "",
            MSG,
            {
              key: publicKeys.get(type) as KeyObject,
              padding: algorithm === "pss" ? constants.RSA_PKCS1_PSS_PADDING : constants.RSA_PKCS1_PADDING,
              saltLength: constants.RSA_PSS_SALTLEN_AUTO,
            },
            sigBytes(s.data["signature"]),
          );
          expect(independent).toBe(true);
          const bad = await e.write(`verify/${type}`, {
            input: b64(MSG),
            hash_algorithm: hash,
            signature_algorithm: algorithm,
            signature: tamper(s.data["signature"]),
          });
          expect(bad.data).toEqual({ valid: false });
        });
      }
    }
  }

  it("RSA jws marshaling is URL-safe base64 of the same signature", async () => {
    const s = await e.write("sign/rsa-2048", { input: b64(MSG), marshaling_algorithm: "jws" });
    expect(String(s.data["signature"])).not.toMatch(/[+/=]/);
    const v = await e.write("verify/rsa-2048", {
      input: b64(MSG),
      marshaling_algorithm: "jws",
      signature: s.data["signature"],
    });
    expect(v.data).toEqual({ valid: true });
  });

  it("PSS salt lengths: auto fills the key, hash equals the digest, integers are exact", async () => {
    const key = publicKeys.get("rsa-2048") as KeyObject;
    for (const [salt, nodeSalt] of [
      ["auto", 256 - 2 - 32],
      ["hash", 32],
      ["20", 20],
    ] as const) {
      const s = await e.write("sign/rsa-2048", { input: b64(MSG), salt_length: salt });
      const exact = nodeVerify(
        "sha256",
        MSG,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: nodeSalt },
        sigBytes(s.data["signature"]),
      );
      expect(exact).toBe(true);
      const v = await e.write("verify/rsa-2048", {
        input: b64(MSG),
        salt_length: salt,
        signature: s.data["signature"],
      });
      expect(v.data).toEqual({ valid: true });
    }
    const hashSalted = await e.write("sign/rsa-2048", { input: b64(MSG), salt_length: "hash" });
    const strict = await e.write("verify/rsa-2048", {
      input: b64(MSG),
      salt_length: "21",
      signature: hashSalted.data["signature"],
    });
    expect(strict.data).toEqual({ valid: false });
    const tooLong = await e.write("sign/rsa-2048", { input: b64(MSG), salt_length: "223" });
    expect(tooLong.status).toBe(400);
    expect(tooLong.error).toBe("requested salt length 223 is invalid");
  });

  it("prehashed input signs the given digest; hash_algorithm=none makes a PKCS#1 v1.5 NoOID signature", async () => {
    const digest = createHash("sha384").update(MSG).digest();
    const pre = await e.write("sign/ecdsa-p384/sha2-384", { input: b64(digest), prehashed: true });
    expect(
      nodeVerify(
        "sha384",
        MSG,
        { key: publicKeys.get("ecdsa-p384") as KeyObject, dsaEncoding: "der" },
        sigBytes(pre.data["signature"]),
      ),
    ).toBe(true);
    const rsaPre = await e.write("sign/rsa-2048/sha2-384", {
      input: b64(digest),
      prehashed: true,
      signature_algorithm: "pkcs1v15",
    });
    expect(
      nodeVerify(
        "sha384",
        MSG,
        { key: publicKeys.get("rsa-2048") as KeyObject, padding: constants.RSA_PKCS1_PADDING },
        sigBytes(rsaPre.data["signature"]),
      ),
    ).toBe(true);
    const raw = Buffer.from("raw bytes, no DigestInfo");
    const none = await e.write("sign/rsa-2048/none", {
      input: b64(raw),
      prehashed: true,
      signature_algorithm: "pkcs1v15",
    });
    expect(none.status).toBe(200);
    const recovered = (await import("node:crypto")).publicDecrypt(
      { key: publicKeys.get("rsa-2048") as KeyObject, padding: constants.RSA_PKCS1_PADDING },
      sigBytes(none.data["signature"]),
    );
    expect(recovered.equals(raw)).toBe(true);
    const vNone = await e.write("verify/rsa-2048/none", {
      input: b64(raw),
      prehashed: true,
      signature_algorithm: "pkcs1v15",
      signature: none.data["signature"],
    });
    expect(vNone.data).toEqual({ valid: true });
    const refused = await e.write("sign/rsa-2048/none", { input: b64(raw) });
    expect(refused.status).toBe(400);
    expect(refused.error).toBe(
      "hash_algorithm=none requires both prehashed=true and signature_algorithm=pkcs1v15",
    );
    const wrongSize = await e.write("sign/rsa-2048/sha2-256", { input: b64("short"), prehashed: true });
    // Go's rsa.SignPSS error (PSS is the default) is a plain one: Vault answers 500 with its text.
    expect(wrongSize.status).toBe(500);
    expect(wrongSize.error).toBe("crypto/rsa: input must be hashed with given hash");
  });

  it("ed25519 signs the message itself and node:crypto verifies it", async () => {
    for (const marshaling of ["asn1", "jws"]) {
      const s = await e.write("sign/ed25519", { input: b64(MSG), marshaling_algorithm: marshaling });
      expect(
        nodeVerify(
          null,
          MSG,
          publicKeys.get("ed25519") as KeyObject,
          sigBytes(s.data["signature"], marshaling),
        ),
      ).toBe(true);
      const v = await e.write("verify/ed25519", {
        input: b64(MSG),
        signature: s.data["signature"],
        marshaling_algorithm: marshaling,
      });
      expect(v.data).toEqual({ valid: true });
    }
    const s = await e.write("sign/ed25519", { input: b64(MSG) });
    const bad = await e.write("verify/ed25519", { input: b64(MSG), signature: tamper(s.data["signature"]) });
    expect(bad.data).toEqual({ valid: false });
    const pre = await e.write("sign/ed25519", { input: b64(MSG), prehashed: true });
    expect(pre.status).toBe(400);
    // Vault Enterprise's variants (test/transit/enterprise/ed25519-variants.test.ts): prehashed needs sha2-512.
    expect(pre.error).toBe("Ed25519ph requires hash_algorithm=sha2-512 when prehashed is true");
    const sha512 = await e.write("sign/ed25519/sha2-512", { input: b64(MSG) });
    expect(sha512.status).toBe(200);
    expect(sha512.data["signature"]).not.toBe(s.data["signature"]);
  });

  it("versions: signs with the requested version, refuses versions below min_decryption_version", async () => {
    const e2 = new TestEngine();
    await e2.write("keys/k", { type: "ecdsa-p256" });
    await e2.write("keys/k/rotate");
    const s1 = await e2.write("sign/k", { input: b64(MSG), key_version: 1 });
    expect(String(s1.data["signature"])).toMatch(/^vault:v1:/);
    expect(s1.data["key_version"]).toBe(1);
    const s2 = await e2.write("sign/k", { input: b64(MSG) });
    expect(s2.data["key_version"]).toBe(2);
    expect((await e2.write("verify/k", { input: b64(MSG), signature: s1.data["signature"] })).data).toEqual({
      valid: true,
    });
    // v1's signature presented as v2's does not verify under v2's key.
    const swapped = String(s1.data["signature"]).replace("vault:v1:", "vault:v2:");
    expect((await e2.write("verify/k", { input: b64(MSG), signature: swapped })).data).toEqual({
      valid: false,
    });
    await e2.write("keys/k/config", { min_decryption_version: 2 });
    const old = await e2.write("verify/k", { input: b64(MSG), signature: s1.data["signature"] });
    expect(old.status).toBe(400);
    expect(old.error).toBe("ciphertext or signature version is disallowed by policy (too old)");
    const tooNew = await e2.write("sign/k", { input: b64(MSG), key_version: 3 });
    expect(tooNew.status).toBe(400);
    expect(tooNew.error).toBe("requested version for signing is higher than the latest key version");
  });
});

describe("signatures from other implementations verify here", () => {
  const e = new TestEngine();
  const ec = {
    "ecdsa-p256": generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey,
    "ecdsa-p384": generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey,
    "ecdsa-p521": generateKeyPairSync("ec", { namedCurve: "P-521" }).privateKey,
  };
  const rsaKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  const edKey = generateKeyPairSync("ed25519").privateKey;
  for (const [type, key] of Object.entries(ec)) plantKeyring(e, type, type as "ecdsa-p256", [key]);
  plantKeyring(e, "rsa", "rsa-2048", [rsaKey]);
  plantKeyring(e, "ed", "ed25519", [edKey]);

  for (const [type, key] of Object.entries(ec)) {
    for (const hash of ["sha2-256", "sha3-384", "sha1"]) {
      it(`node:crypto ${type} ${hash} (DER and P1363)`, async () => {
        const der = nodeSign(NODE_HASH[hash] ?? "", MSG, { key, dsaEncoding: "der" });
        const p1363 = nodeSign(NODE_HASH[hash] ?? "", MSG, { key, dsaEncoding: "ieee-p1363" });
        const v1 = await e.write(`verify/${type}/${hash}`, {
          input: b64(MSG),
          signature: `vault:v1:${b64(der)}`,
        });
        expect(v1.data).toEqual({ valid: true });
        const v2 = await e.write(`verify/${type}/${hash}`, {
          input: b64(MSG),
          marshaling_algorithm: "jws",
          signature: `vault:v1:${p1363.toString("base64url")}`,
        });
        expect(v2.data).toEqual({ valid: true });
      });
    }
  }

  it("node:crypto RSA PSS (any salt length with auto) and PKCS#1 v1.5", async () => {
    for (const hash of ["sha2-256", "sha2-512", "sha3-256"]) {
      for (const saltLength of [0, 32, constants.RSA_PSS_SALTLEN_MAX_SIGN]) {
        const sig = nodeSign(NODE_HASH[hash] ?? "", MSG, {
          key: rsaKey,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength,
        });
        const v = await e.write(`verify/rsa/${hash}`, { input: b64(MSG), signature: `vault:v1:${b64(sig)}` });
        expect(v.data).toEqual({ valid: true });
      }
      const pkcs = nodeSign(NODE_HASH[hash] ?? "", MSG, {
        key: rsaKey,
        padding: constants.RSA_PKCS1_PADDING,
      });
      const v = await e.write(`verify/rsa/${hash}`, {
        input: b64(MSG),
        signature_algorithm: "pkcs1v15",
        signature: `vault:v1:${b64(pkcs)}`,
      });
      expect(v.data).toEqual({ valid: true });
      const asPss = await e.write(`verify/rsa/${hash}`, {
        input: b64(MSG),
        signature: `vault:v1:${b64(pkcs)}`,
      });
      expect(asPss.data).toEqual({ valid: false });
    }
  });

  it("node:crypto ed25519", async () => {
    const sig = nodeSign(null, MSG, edKey);
    expect((await e.write("verify/ed", { input: b64(MSG), signature: `vault:v1:${b64(sig)}` })).data).toEqual(
      {
        valid: true,
      },
    );
  });

  it.skipIf(!hasOpenssl)("OpenSSL CLI: its signatures verify here and ours verify there", async () => {
    const dir = mkdtempSync(join(tmpdir(), "transit-openssl-"));
    try {
      const msgFile = join(dir, "msg");
      writeFileSync(msgFile, MSG);
      for (const [name, key, extra] of [
        ["ecdsa-p256", ec["ecdsa-p256"], [] as string[]],
        ["rsa", rsaKey, ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:-2"]],
      ] as const) {
        const keyFile = join(dir, `${name}.pem`);
        const pubFile = join(dir, `${name}.pub`);
        writeFileSync(keyFile, key.export({ format: "pem", type: "pkcs8" }));
        writeFileSync(pubFile, createPublicKey(key).export({ format: "pem", type: "spki" }));
        const sig = execFileSync("openssl", ["dgst", "-sha256", "-sign", keyFile, ...extra, msgFile]);
        const v = await e.write(`verify/${name}`, { input: b64(MSG), signature: `vault:v1:${b64(sig)}` });
        expect(v.data).toEqual({ valid: true });
        const ours = await e.write(`sign/${name}`, { input: b64(MSG) });
        const sigFile = join(dir, `${name}.sig`);
        writeFileSync(sigFile, sigBytes(ours.data["signature"]));
        const out = execFileSync("openssl", [
          "dgst",
          "-sha256",
          "-verify",
          pubFile,
          ...extra.map((x) => x.replace("saltlen:-2", "saltlen:-2")),
          "-signature",
          sigFile,
          msgFile,
        ]).toString();
        expect(out).toMatch(/Verified OK/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("RFC 8032 section 7.1 vectors: same deterministic signatures, and they verify", async () => {
    const vectors = [
      [
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
      ],
      [
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
      ],
      [
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
      ],
    ];
    const e2 = new TestEngine();
    for (const [i, [seed, msg, sig]] of vectors.entries()) {
      plantKeyring(e2, `rfc${i}`, "ed25519", [ed25519FromSeed(seed ?? "")]);
      const input = b64(Buffer.from(msg ?? "", "hex"));
      const s = await e2.write(`sign/rfc${i}`, { input });
      expect(sigBytes(s.data["signature"]).toString("hex")).toBe(sig);
      const v = await e2.write(`verify/rfc${i}`, {
        input,
        signature: `vault:v1:${b64(Buffer.from(sig ?? "", "hex"))}`,
      });
      expect(v.data).toEqual({ valid: true });
    }
  });

  describe("RFC 6979 A.2.5 key (P-256) and Wycheproof-style malformed signatures", () => {
    const key = p256FromScalar(
      "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721",
      "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6",
      "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299",
    );
    const e3 = new TestEngine();
    plantKeyring(e3, "p256", "ecdsa-p256", [key]);
    const r = "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716";
    const s = "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8";
    const n = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
    const int = (hex: string) => {
      let h = hex.replace(/^(00)+(?=..)/, "");
      if (Number.parseInt(h.slice(0, 2), 16) & 0x80) h = `00${h}`;
      return `02${(h.length / 2).toString(16).padStart(2, "0")}${h}`;
    };
    const seq = (body: string) => `30${(body.length / 2).toString(16).padStart(2, "0")}${body}`;
    const verify = async (derHex: string) =>
      e3.write("verify/p256", {
        input: b64("sample"),
        signature: `vault:v1:${b64(Buffer.from(derHex, "hex"))}`,
      });

    it("the published (high-S) signature verifies, as in Go", async () => {
      expect((await verify(seq(int(r) + int(s)))).data).toEqual({ valid: true });
      const p1363 = Buffer.from(r + s, "hex").toString("base64url");
      const jws = await e3.write("verify/p256", {
        input: b64("sample"),
        marshaling_algorithm: "jws",
        signature: `vault:v1:${p1363}`,
      });
      expect(jws.data).toEqual({ valid: true });
    });

    it("r or s of zero or of the group order, swapped r and s: invalid", async () => {
      for (const body of [
        int("00") + int(s),
        int(r) + int("00"),
        int(n) + int(s),
        int(r) + int(n),
        int(s) + int(r),
      ]) {
        expect((await verify(seq(body))).data).toEqual({ valid: false });
      }
    });

    it("non-DER encodings are refused with Vault's messages", async () => {
      const good = seq(int(r) + int(s));
      const trailing = await verify(`${good}00`);
      expect(trailing.status).toBe(400);
      expect(trailing.error).toBe("supplied signature contains extra data");
      for (const bad of [
        `3081${good.slice(2)}`, // non-minimal length
        seq(`0203001234${int(s)}`), // non-minimal integer
        `31${good.slice(2)}`, // SET instead of SEQUENCE
        good.slice(0, -2), // truncated
        "",
      ]) {
        const out = await verify(bad);
        expect(out.status).toBe(400);
        expect(out.error).toBe("supplied signature is invalid");
      }
    });
  });
});

describe("derived ed25519", () => {
  it("a context derives a key: same context, same public key and signature; another context fails", async () => {
    const e = new TestEngine();
    await e.write("keys/d", { type: "ed25519", derived: true });
    const ctxA = b64("context A");
    const a1 = await e.write("sign/d", { input: b64(MSG), context: ctxA });
    const a2 = await e.write("sign/d", { input: b64(MSG), context: ctxA });
    expect(a1.data["signature"]).toBe(a2.data["signature"]);
    expect(a1.data["public_key"]).toBe(a2.data["public_key"]);
    const pub = createPublicKey({
      key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), unb64(a1.data["public_key"])]),
      format: "der",
      type: "spki",
    });
    expect(nodeVerify(null, MSG, pub, sigBytes(a1.data["signature"]))).toBe(true);
    const read = await e.read("keys/d", { context: ctxA });
    const v1 = (read.data["keys"] as Record<string, Record<string, unknown>>)["1"] ?? {};
    expect(v1["public_key"]).toBe(a1.data["public_key"]);
    expect(
      (await e.write("verify/d", { input: b64(MSG), context: ctxA, signature: a1.data["signature"] })).data,
    ).toEqual({
      valid: true,
    });
    const other = await e.write("verify/d", {
      input: b64(MSG),
      context: b64("B"),
      signature: a1.data["signature"],
    });
    expect(other.data).toEqual({ valid: false });
    const missing = await e.write("sign/d", { input: b64(MSG) });
    expect(missing.status).toBe(400);
    expect(missing.error).toMatch(/^error deriving key: missing 'context' for key derivation/);
  });

  it("batch: per-item contexts and public keys, references, per-item errors with status 200", async () => {
    const e = new TestEngine();
    await e.write("keys/d", { type: "ed25519", derived: true });
    const out = await e.write("sign/d", {
      batch_input: [
        { input: b64("one"), context: b64("x"), reference: "r1" },
        { input: b64("two"), context: b64("y"), reference: "r2" },
        { context: b64("z"), reference: "r3" },
        { input: "!!", context: b64("z") },
      ],
    });
    expect(out.status).toBe(200);
    const results = out.data["batch_results"] as Record<string, unknown>[];
    expect(results.map((r) => r["reference"])).toEqual(["r1", "r2", "r3", ""]);
    expect(results[0]?.["publickey"]).not.toBe(results[1]?.["publickey"]);
    expect(results[2]).toEqual({ key_version: 0, error: "missing input", reference: "r3" });
    expect(results[3]?.["error"]).toBe("unable to decode input: illegal base64 data at input byte 0");
    const verified = await e.write("verify/d", {
      batch_input: [
        { input: b64("one"), context: b64("x"), signature: results[0]?.["signature"], reference: "a" },
        { input: b64("two"), context: b64("x"), signature: results[1]?.["signature"], reference: "b" },
        { input: b64("two"), context: b64("y"), signature: "nope", reference: "c" },
      ],
    });
    expect(verified.status).toBe(200);
    expect(verified.data["batch_results"]).toEqual([
      { valid: true, reference: "a" },
      { valid: false, reference: "b" },
      { valid: false, error: "invalid signature: no prefix", reference: "c" },
    ]);
  });
});

describe("bad input on sign and verify answers 4xx and changes nothing", () => {
  it("each case", async () => {
    const e = new TestEngine();
    await e.write("keys/ec", { type: "ecdsa-p256" });
    await e.write("keys/aes");
    const sig = String((await e.write("sign/ec", { input: b64(MSG) })).data["signature"]);
    const cases: [string, Record<string, unknown>, number, string | RegExp][] = [
      ["sign/missing", { input: b64(MSG) }, 400, "signing key not found"],
      ["verify/missing", { input: b64(MSG), signature: sig }, 400, "signature verification key not found"],
      ["sign/aes", { input: b64(MSG) }, 400, "key type aes256-gcm96 does not support signing"],
      ["sign/ec/sha2-999", { input: b64(MSG) }, 400, 'invalid hash algorithm "sha2-999"'],
      ["sign/ec", { input: b64(MSG), marshaling_algorithm: "pem" }, 400, 'invalid marshaling type "pem"'],
      [
        "sign/ec",
        { input: b64(MSG), salt_length: "lots" },
        400,
        "salt length neither 'auto', 'hash', nor an int: lots",
      ],
      ["sign/ec", { input: b64(MSG), salt_length: "-2" }, 400, "salt length is invalid: -2"],
      ["sign/ec", { input: "not base64" }, 400, /^unable to decode input: illegal base64 data/],
      ["sign/ec", { input: b64(MSG), context: "%%" }, 400, "failed to base64-decode context"],
      ["sign/ec", { input: b64(MSG), key_version: -1 }, 400, "requested version for signing is negative"],
      ["sign/ec", { batch_input: [] }, 400, "missing batch input to process"],
      // A plain error in Vault ("failed to parse batch input: %w"): 500.
      ["sign/ec", { batch_input: "x" }, 500, /^failed to parse batch input/],
      ["sign/ec", { batch_input: [{ input: 5 }] }, 500, /^failed to parse batch input/],
      [
        "verify/ec",
        { input: b64(MSG) },
        400,
        "missing one of 'signature', 'hmac' or 'cmac' arguments to verify",
      ],
      [
        "verify/ec",
        { batch_input: [{ signature: sig }, { hmac: "x" }] },
        400,
        "elements of batch_input must all provide either 'signature', 'hmac' or 'cmac'",
      ],
      [
        "verify/ec",
        { batch_input: [{ signature: sig }, { input: "" }] },
        400,
        "some elements of batch_input are missing 'signature'",
      ],
      [
        "verify/ec",
        { batch_input: [{ input: "" }] },
        400,
        "no batch_input elements have 'signature', 'hmac' or 'cmac'",
      ],
      ["verify/ec", { input: b64(MSG), signature: "v1:abc" }, 400, "invalid signature: no prefix"],
      [
        "verify/ec",
        { input: b64(MSG), signature: "vault:v1" },
        400,
        "invalid signature: wrong number of fields",
      ],
      [
        "verify/ec",
        { input: b64(MSG), signature: "vault:vX:abc" },
        400,
        "invalid signature: version number could not be decoded",
      ],
      [
        "verify/ec",
        { input: b64(MSG), signature: "vault:v9:abc" },
        400,
        "invalid signature: version is too new",
      ],
      ["verify/ec", { input: b64(MSG), signature: "vault:v1:***" }, 400, "invalid base64 signature value"],
      [
        "verify/ec",
        { input: "@@", signature: sig },
        400,
        /^failed to parse item: failed to parse input: illegal base64/,
      ],
      [
        "verify/ec",
        { input: b64(MSG), cmac: "vault:v1:x" },
        400,
        "key ec is not a supported CMAC key type: ecdsa-p256",
      ],
    ];
    for (const [path, data, status, error] of cases) {
      const before = e.snapshot();
      const out = await e.write(path, data);
      expect(out.status, `${path} ${JSON.stringify(data)}`).toBe(status);
      if (typeof error === "string") expect(out.error).toBe(error);
      else expect(out.error).toMatch(error);
      expect(e.snapshot()).toEqual(before);
    }
  });
});
