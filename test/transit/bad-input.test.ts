import { describe, expect, it } from "vitest";
import type { Operation } from "../../src/framework/request.ts";
import { b64, TestEngine } from "../helpers/engine.ts";

async function prepared(): Promise<{ e: TestEngine; ct: string }> {
  const e = new TestEngine();
  await e.write("keys/k");
  await e.write("keys/d", { derived: true });
  const ct = String((await e.write("encrypt/k", { plaintext: b64("secret plaintext") })).data["ciphertext"]);
  return { e, ct };
}

interface Case {
  what: string;
  op?: Operation;
  path: string;
  data?: Record<string, unknown>;
  status: number;
  error?: string | RegExp;
}

const CASES: (ct: string) => Case[] = (ct) => [
  { what: "unknown path", path: "nothing/here", status: 404, error: "unsupported path" },
  { what: "wrong operation", op: "delete", path: "encrypt/k", status: 405, error: "unsupported operation" },
  { what: "list on a key", op: "list", path: "keys/k", status: 405 },
  { what: "invalid key name", path: "keys/-bad-", status: 404 },
  {
    what: "missing plaintext",
    path: "encrypt/k",
    data: {},
    status: 400,
    error: "missing plaintext to encrypt",
  },
  {
    what: "plaintext of wrong type",
    path: "encrypt/k",
    data: { plaintext: { a: 1 } },
    status: 400,
    error: /^Field validation failed: error converting input for field "plaintext"/,
  },
  {
    what: "invalid base64 plaintext",
    path: "encrypt/k",
    data: { plaintext: "a===" },
    status: 400,
    error: /^illegal base64 data at input byte/,
  },
  {
    what: "non-canonical base64 (missing padding)",
    path: "encrypt/k",
    data: { plaintext: "aGk" },
    status: 400,
    error: "illegal base64 data at input byte 0",
  },
  {
    what: "key_version not a number",
    path: "encrypt/k",
    data: { plaintext: b64("x"), key_version: "two" },
    status: 400,
    error: /field "key_version"/,
  },
  {
    what: "encrypt with unknown key (update)",
    path: "encrypt/nokey",
    data: { plaintext: b64("x") },
    status: 400,
    error: "encryption key not found",
  },
  {
    what: "missing ciphertext",
    path: "decrypt/k",
    data: {},
    status: 400,
    error: "missing ciphertext to decrypt",
  },
  {
    what: "wrong prefix",
    path: "decrypt/k",
    data: { ciphertext: "v1:abc" },
    status: 400,
    error: "invalid ciphertext: no prefix",
  },
  {
    what: "no version separator",
    path: "decrypt/k",
    data: { ciphertext: "vault:v1" },
    status: 400,
    error: "invalid ciphertext: wrong number of fields",
  },
  {
    what: "non-numeric version",
    path: "decrypt/k",
    data: { ciphertext: "vault:vX:AAAA" },
    status: 400,
    error: "invalid ciphertext: version number could not be decoded",
  },
  {
    what: "unknown version",
    path: "decrypt/k",
    data: { ciphertext: ct.replace("vault:v1:", "vault:v7:") },
    status: 400,
    error: "invalid ciphertext: version is too new",
  },
  {
    what: "bad ciphertext base64",
    path: "decrypt/k",
    data: { ciphertext: "vault:v1:@@@@" },
    status: 400,
    error: "invalid ciphertext: could not decode base64",
  },
  {
    what: "truncated ciphertext",
    path: "decrypt/k",
    data: { ciphertext: "vault:v1:AAAA" },
    status: 400,
    error: "invalid ciphertext length",
  },
  {
    what: "tampered ciphertext",
    path: "decrypt/k",
    data: { ciphertext: tamper(ct) },
    status: 400,
    error: "cipher: message authentication failed",
  },
  {
    what: "wrong associated data",
    path: "decrypt/k",
    data: { ciphertext: ct, associated_data: b64("other") },
    status: 400,
    error: "cipher: message authentication failed",
  },
  {
    what: "decrypt with unknown key",
    path: "decrypt/nokey",
    data: { ciphertext: ct },
    status: 400,
    error: "encryption key not found",
  },
  {
    what: "derived key without context",
    path: "encrypt/d",
    data: { plaintext: b64("x") },
    status: 400,
    error: /^missing 'context'/,
  },
  {
    what: "context not base64",
    path: "encrypt/d",
    data: { plaintext: b64("x"), context: "***" },
    status: 400,
    error: /^illegal base64/,
  },
  {
    what: "rewrap unknown key",
    path: "rewrap/nokey",
    data: { ciphertext: ct },
    status: 400,
    error: "encryption key not found",
  },
  {
    what: "rewrap tampered",
    path: "rewrap/k",
    data: { ciphertext: tamper(ct) },
    status: 400,
    error: "cipher: message authentication failed",
  },
  { what: "rotate unknown key", path: "keys/nokey/rotate", status: 400, error: "key not found" },
  {
    what: "config unknown key",
    path: "keys/nokey/config",
    data: { deletion_allowed: true },
    status: 400,
    error: "no existing key named nokey could be found",
  },
  {
    what: "negative min_decryption_version",
    path: "keys/k/config",
    data: { min_decryption_version: -1 },
    status: 400,
    error: "min decryption version cannot be negative",
  },
  {
    what: "huge min_encryption_version",
    path: "keys/k/config",
    data: { min_encryption_version: 1e12 },
    status: 400,
    error: /cannot set min encryption version of 1000000000000/,
  },
  {
    what: "trim unknown key",
    path: "keys/nokey/trim",
    data: { min_available_version: 1 },
    status: 400,
    error: "invalid key name",
  },
  {
    what: "unknown key type",
    path: "keys/new",
    data: { type: "des" },
    status: 400,
    error: "unknown key type des",
  },
  {
    what: "key_size on a non-hmac key",
    path: "keys/new",
    data: { key_size: 64 },
    status: 400,
    error: "key_size is not valid for algorithm aes256-gcm96",
  },
  {
    what: "convergent without derived",
    path: "keys/new",
    data: { convergent_encryption: true },
    status: 400,
    error: "convergent encryption requires derivation to be enabled",
  },
  {
    what: "derived ecdsa",
    path: "keys/new",
    data: { type: "ecdsa-p256", derived: true },
    status: 400,
    error: /not supported for keys of type ecdsa-p256/,
  },
  {
    what: "datakey bad bits",
    path: "datakey/plaintext/k",
    data: { bits: "lots" },
    status: 400,
    error: /field "bits"/,
  },
  {
    what: "datakey unknown key",
    path: "datakey/wrapped/nokey",
    status: 400,
    error: "encryption key not found",
  },
  { what: "read unknown key", op: "read", path: "keys/nokey", status: 404 },
  { what: "cache size too small", path: "cache-config", data: { size: 3 }, status: 400 },
  // A plain error in Vault ("failed to parse batch input: %w"): 500.
  {
    what: "batch_input not a list",
    path: "encrypt/k",
    data: { batch_input: "x" },
    status: 500,
    error: "failed to parse batch input: source data must be an array or slice, got string",
  },
  { what: "deeply nested junk", path: "encrypt/k", data: { plaintext: nest(200) }, status: 400 },
];

function tamper(ct: string): string {
  const raw = Buffer.from(ct.slice("vault:v1:".length), "base64");
  raw[raw.length - 1] = (raw[raw.length - 1] ?? 0) ^ 1;
  return `vault:v1:${raw.toString("base64")}`;
}

function nest(depth: number): unknown {
  let v: unknown = "x";
  for (let i = 0; i < depth; i++) v = { v };
  return v;
}

describe("bad input gets a clear 4xx and changes nothing", async () => {
  const { ct } = await prepared();
  for (const c of CASES(ct)) {
    it(c.what, async () => {
      const { e } = await prepared();
      const before = e.snapshot();
      const out = await e.request(c.op ?? "update", c.path, c.data ?? {});
      expect(out.status).toBe(c.status);
      if (c.error !== undefined)
        expect(out.error).toEqual(c.error instanceof RegExp ? expect.stringMatching(c.error) : c.error);
      if (out.status >= 400 && out.status !== 404) expect(out.error ?? "").not.toBe("");
      expect(e.snapshot()).toEqual(before);
    });
  }

  it("errors never contain the plaintext or key material", async () => {
    const { e } = await prepared();
    const out = await e.write("encrypt/k", { plaintext: "c2VjcmV0IHBsYWludGV4dA=!" });
    expect(out.error ?? "").not.toContain("secret");
  });

  it("every byte flip and every truncation of a ciphertext is refused", async () => {
    const { e, ct: good } = await prepared();
    const raw = Buffer.from(good.slice("vault:v1:".length), "base64");
    for (let i = 0; i < raw.length; i++) {
      const flipped = Buffer.from(raw);
      flipped[i] = (flipped[i] ?? 0) ^ 0x80;
      expect(
        (await e.write("decrypt/k", { ciphertext: `vault:v1:${flipped.toString("base64")}` })).status,
      ).toBe(400);
    }
    for (let len = 0; len < raw.length; len++) {
      expect(
        (await e.write("decrypt/k", { ciphertext: `vault:v1:${raw.subarray(0, len).toString("base64")}` }))
          .status,
      ).toBe(400);
    }
  });
});
