/**
 * hmac/ against RFC 4231 vectors (through an hmac-type key and through the
 * HMAC key every version carries), verify/ with hmac values, hash/ against
 * NIST example vectors, random/ lengths, formats and sources, and bad input
 * that must answer 4xx and change nothing.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { describe, expect, it } from "vitest";
import { encodeKeyring } from "../../src/transit/keyring/codec.ts";
import { newKeyring } from "../../src/transit/keyring/keyring.ts";
import { b64, TestEngine, unb64 } from "../helpers/engine.ts";

function plantHmac(e: TestEngine, name: string, key: Buffer, type: "hmac" | "aes256-gcm96" = "hmac"): void {
  const ring = newKeyring({ name, type, keySize: type === "hmac" ? key.length : 0 });
  ring.versions.set(1, {
    key: type === "hmac" ? key : Buffer.alloc(32, 1),
    hmacKey: key,
    creationTime: "2024-01-01T00:00:00Z",
  });
  ring.latestVersion = 1;
  ring.minDecryptionVersion = 1;
  e.storage.entries.set(`policy/${name}`, encodeKeyring(ring));
}

// RFC 4231 test cases 1, 2 and 6.
const RFC4231: { key: Buffer; data: string; mac: Record<string, string> }[] = [
  {
    key: Buffer.alloc(20, 0x0b),
    data: "Hi There",
    mac: {
      "sha2-224": "896fb1128abbdf196832107cd49df33f47b4b1169912ba4f53684b22",
      "sha2-256": "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
      "sha2-384":
        "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6",
      "sha2-512":
        "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
    },
  },
  {
    key: Buffer.from("Jefe"),
    data: "what do ya want for nothing?",
    mac: {
      "sha2-224": "a30e01098bc6dbbf45690f3a7e9e6d0f8bbea2a39e6148008fd05e44",
      "sha2-256": "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
      "sha2-384":
        "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649",
      "sha2-512":
        "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
    },
  },
  {
    key: Buffer.alloc(131, 0xaa),
    data: "Test Using Larger Than Block-Size Key - Hash Key First",
    mac: {
      "sha2-224": "95e9a0db962095adaebe9b2d6f0dbce2d499f112f2d2b7273fa6870e",
      "sha2-256": "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
      "sha2-384":
        "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952",
      "sha2-512":
        "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
    },
  },
];

const macOf = (out: unknown): string => unb64(String(out).split(":")[2]).toString("hex");

describe("hmac", () => {
  it("RFC 4231 vectors through an hmac key, with the algorithm in the URL or the body", async () => {
    const e = new TestEngine();
    for (const [i, tc] of RFC4231.entries()) {
      plantHmac(e, `rfc${i}`, tc.key);
      for (const [alg, mac] of Object.entries(tc.mac)) {
        const viaUrl = await e.write(`hmac/rfc${i}/${alg}`, { input: b64(tc.data) });
        expect(viaUrl.status).toBe(200);
        expect(String(viaUrl.data["hmac"])).toMatch(/^vault:v1:/);
        expect(macOf(viaUrl.data["hmac"])).toBe(mac);
        const viaBody = await e.write(`hmac/rfc${i}`, { input: b64(tc.data), algorithm: alg });
        expect(macOf(viaBody.data["hmac"])).toBe(mac);
        const ok = await e.write(`verify/rfc${i}/${alg}`, { input: b64(tc.data), hmac: viaUrl.data["hmac"] });
        expect(ok.data).toEqual({ valid: true });
      }
    }
  });

  it("every key type HMACs with its version's HMAC key, not its encryption key", async () => {
    const e = new TestEngine();
    const hmacKey = Buffer.alloc(32, 0x42);
    plantHmac(e, "aes", hmacKey, "aes256-gcm96");
    for (const [alg, node] of [
      ["sha2-256", "sha256"],
      ["sha3-512", "sha3-512"],
      ["sha1", "sha1"],
    ]) {
      const out = await e.write(`hmac/aes/${alg}`, { input: b64("data") });
      expect(macOf(out.data["hmac"])).toBe(
        createHmac(node ?? "", hmacKey)
          .update("data")
          .digest("hex"),
      );
    }
  });

  it("generated keys: a new HMAC key per version, old versions verify, min versions apply", async () => {
    const e = new TestEngine();
    await e.write("keys/k", { type: "hmac", key_size: 64 });
    const read = await e.read("keys/k");
    expect(read.data["key_size"]).toBe(64);
    expect(read.data["supports_signing"]).toBe(false);
    const v1 = await e.write("hmac/k", { input: b64("m") });
    await e.write("keys/k/rotate");
    const v2 = await e.write("hmac/k", { input: b64("m") });
    expect(String(v2.data["hmac"])).toMatch(/^vault:v2:/);
    expect(macOf(v1.data["hmac"])).not.toBe(macOf(v2.data["hmac"]));
    const old = await e.write("hmac/k", { input: b64("m"), key_version: 1 });
    expect(old.data["hmac"]).toBe(v1.data["hmac"]);
    expect((await e.write("verify/k", { input: b64("m"), hmac: v1.data["hmac"] })).data).toEqual({
      valid: true,
    });
    expect((await e.write("verify/k", { input: b64("n"), hmac: v1.data["hmac"] })).data).toEqual({
      valid: false,
    });
    await e.write("keys/k/config", { min_decryption_version: 2, min_encryption_version: 2 });
    const tooOld = await e.write("verify/k", { input: b64("m"), hmac: v1.data["hmac"] });
    expect(tooOld.status).toBe(400);
    expect(tooOld.error).toBe("cannot verify HMAC: version is too old (disallowed by policy)");
    const genOld = await e.write("hmac/k", { input: b64("m"), key_version: 1 });
    expect(genOld.status).toBe(400);
    expect(genOld.error).toBe("cannot generate HMAC: version is too old (disallowed by policy)");
  });

  it("batch: results in order with references, per-item errors, status 200; verify omits valid=false", async () => {
    const e = new TestEngine();
    const key = Buffer.alloc(32, 9);
    plantHmac(e, "h", key);
    const out = await e.write("hmac/h", {
      batch_input: [
        { input: b64("a"), reference: "1" },
        { input: b64("b") },
        {},
        { input: "" },
        { input: "%" },
      ],
    });
    expect(out.status).toBe(200);
    const results = out.data["batch_results"] as Record<string, unknown>[];
    expect(macOf(results[0]?.["hmac"])).toBe(createHmac("sha256", key).update("a").digest("hex"));
    expect(results[0]?.["reference"]).toBe("1");
    expect(results[2]).toEqual({ error: "missing input for HMAC", reference: "" });
    expect(macOf(results[3]?.["hmac"])).toBe(createHmac("sha256", key).update("").digest("hex"));
    expect(results[4]?.["error"]).toBe(
      "unable to decode input as base64: illegal base64 data at input byte 0",
    );
    const verified = await e.write("verify/h", {
      batch_input: [
        { input: b64("a"), hmac: results[0]?.["hmac"], reference: "x" },
        { input: b64("a"), hmac: results[1]?.["hmac"], reference: "y" },
        { input: b64("a"), hmac: "vault:v7:AAAA" },
      ],
    });
    expect(verified.data["batch_results"]).toEqual([
      { valid: true, reference: "x" },
      { reference: "y" },
      { error: "invalid HMAC: version is too new", reference: "" },
    ]);
  });

  it("verify compares in constant time and rejects truncated MACs", async () => {
    const e = new TestEngine();
    plantHmac(e, "h", Buffer.alloc(32, 3));
    const full = String((await e.write("hmac/h", { input: b64("x") })).data["hmac"]);
    const bytes = unb64(full.split(":")[2]);
    const truncated = `vault:v1:${b64(bytes.subarray(0, 16))}`;
    expect((await e.write("verify/h", { input: b64("x"), hmac: truncated })).data).toEqual({ valid: false });
    expect(timingSafeEqual(bytes, bytes)).toBe(true);
  });
});

describe("hash", () => {
  const ABC: Record<string, string> = {
    "sha2-224": "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7",
    "sha2-256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    "sha2-384":
      "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
    "sha2-512":
      "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    "sha3-224": "e642824c3f8cf24ad09234ee7d3c766fc9a3a5168d0c94ad73b46fdf",
    "sha3-256": "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532",
    "sha3-384":
      "ec01498288516fc926459f58e2c6ad8df9b473cb0fc08c2596da7cf0e49be4b298d88cea927ac7f539f1edf228376d25",
    "sha3-512":
      "b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e10e116e9192af3c91a7ec57647e3934057340b4cf408d5a56592f8274eec53f0",
  };

  it('NIST example vectors for "abc", hex and base64, algorithm in URL or body', async () => {
    const e = new TestEngine();
    for (const [alg, sum] of Object.entries(ABC)) {
      expect((await e.write(`hash/${alg}`, { input: b64("abc") })).data).toEqual({ sum });
      const base64 = await e.write("hash", { input: b64("abc"), algorithm: alg, format: "base64" });
      expect(base64.data).toEqual({ sum: Buffer.from(sum, "hex").toString("base64") });
    }
    expect((await e.write("hash", { input: "" })).data).toEqual({
      sum: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    });
  });
});

describe("random", () => {
  it("lengths from the body and the URL, hex and base64, Vault's sources", async () => {
    const e = new TestEngine();
    const dflt = await e.write("random");
    expect(unb64(dflt.data["random_bytes"]).length).toBe(32);
    const hex = await e.write("random/64", { format: "hex" });
    expect(String(hex.data["random_bytes"])).toMatch(/^[0-9a-f]{128}$/);
    const body = await e.write("random", { bytes: 5 });
    expect(unb64(body.data["random_bytes"]).length).toBe(5);
    for (const source of ["platform", "all", "seal"]) {
      const out = await e.write(`random/${source}/17`);
      expect(out.status).toBe(200);
      expect(unb64(out.data["random_bytes"]).length).toBe(17);
      expect(out.warnings.length > 0).toBe(source === "seal");
      const bodyBytes = await e.write(`random/${source}`, { bytes: 3 });
      expect(unb64(bodyBytes.data["random_bytes"]).length).toBe(3);
    }
    const max = await e.write("random", { bytes: 128 * 1024 });
    expect(unb64(max.data["random_bytes"]).length).toBe(128 * 1024);
    const a = await e.write("random/16");
    const b = await e.write("random/16");
    expect(a.data["random_bytes"]).not.toBe(b.data["random_bytes"]);
  });
});

describe("bad input on hmac, hash and random answers 4xx and changes nothing", () => {
  it("each case", async () => {
    const e = new TestEngine();
    await e.write("keys/k");
    const mac = String((await e.write("hmac/k", { input: b64("x") })).data["hmac"]);
    const cases: [string, Record<string, unknown>, string | RegExp][] = [
      ["hmac/none", { input: b64("x") }, "encryption key not found"],
      ["hmac/k", {}, "missing input for HMAC"],
      ["hmac/k/md5", { input: b64("x") }, 'unsupported algorithm "md5"'],
      ["hmac/k/none", { input: b64("x") }, 'unsupported algorithm "none"'],
      ["hmac/k", { input: "***" }, /^unable to decode input as base64: illegal base64 data at input byte/],
      ["hmac/k", { input: b64("x"), key_version: 5 }, "key version does not exist; latest key version is 1"],
      ["hmac/k", { input: b64("x"), key_version: -1 }, "key version does not exist (cannot be negative)"],
      ["hmac/k", { batch_input: [] }, "missing batch input to process"],
      ["hmac/k", { batch_input: [{ input: {} }] }, /^failed to parse batch input/],
      ["verify/none", { input: b64("x"), hmac: mac }, "encryption key not found"],
      ["verify/k", { input: b64("x"), hmac: "x" }, "invalid HMAC to verify: no prefix"],
      ["verify/k", { input: b64("x"), hmac: "vault:v1" }, "invalid HMAC: wrong number of fields"],
      [
        "verify/k",
        { input: b64("x"), hmac: "vault:vq:AA==" },
        "invalid HMAC: version number could not be decoded",
      ],
      ["verify/k", { input: b64("x"), hmac: "vault:v1:A" }, /^unable to decode verification HMAC as base64/],
      ["verify/k/sha9", { input: b64("x"), hmac: mac }, 'unsupported algorithm "sha9"'],
      ["hash", {}, "input missing"],
      ["hash", { input: "a" }, /^unable to decode input as base64/],
      ["hash/sha1", { input: b64("x") }, "unsupported algorithm sha1"],
      [
        "hash",
        { input: b64("x"), format: "raw" },
        'unsupported encoding format raw; must be "hex" or "base64"',
      ],
      ["random/0", {}, '"bytes" cannot be less than 1'],
      ["random", { bytes: 10 * 1024 * 1024 + 1 }, '"bytes" must be less than 10485760'],
      ["random/abc", {}, 'error parsing url-set byte count: strconv.Atoi: parsing "abc": invalid syntax'],
      ["random/all/x", {}, 'error parsing url-set byte count: strconv.Atoi: parsing "x": invalid syntax'],
      ["random", { format: "b32" }, 'unsupported encoding format "b32"; must be "hex" or "base64"'],
      ["random", { bytes: "many" }, /^Field validation failed/],
    ];
    for (const [path, data, error] of cases) {
      const before = e.snapshot();
      const out = await e.write(path, data);
      // Vault's batch decoding failure is a plain error: 500.
      const status = String(error).includes("failed to parse batch input") ? 500 : 400;
      expect(out.status, `${path} ${JSON.stringify(data)}`).toBe(status);
      if (typeof error === "string") expect(out.error).toBe(error);
      else expect(out.error).toMatch(error);
      expect(e.snapshot()).toEqual(before);
    }
  });
});
