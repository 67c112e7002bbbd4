// AES-CMAC (src/crypto/cmac.ts): SP 800-38B and RFC 4493 examples, Wycheproof aes_cmac, and
// agreement with @noble/ciphers' cmac and the `openssl mac ... CMAC` CLI on pseudorandom inputs.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cmac as nobleCmac } from "@noble/ciphers/aes.js";
import { afterAll, describe, expect, it } from "vitest";
import { checkMacLength, cmac, cmacKey, cmacVerify } from "../../src/crypto/cmac.ts";
import { NO_RUNTIME_REASON, ok, opensslRuntime, runOnOpenssl } from "./helpers/openssl-runtime.ts";
import { hex, loadVectors, toHex, type WycheproofFile, type WycheproofTest } from "./helpers/vectors.ts";

interface MacGroup {
  keySize: number;
  tagSize: number;
  tests: (WycheproofTest & { key: string; msg: string; tag: string })[];
}
const wycheproof = loadVectors<WycheproofFile<MacGroup>>("wycheproof/aes_cmac_test.json");
const examples = loadVectors<{ vectors: { name: string; key: string; message: string; tag: string }[] }>(
  "sp800-38b/aes-cmac-examples.json",
);

/** Deterministic pseudorandom bytes (inputs only; never keys outside tests). */
function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}
const CASES = [16, 24, 32].flatMap((k) =>
  [0, 1, 15, 16, 17, 31, 32, 33, 64, 100].map((m) => ({ key: bytes(k, k + m), msg: bytes(m, m + 7) })),
);

describe("AES-CMAC known answers", () => {
  it("SP 800-38B examples and RFC 4493 test cases", () => {
    expect(examples.vectors.length).toBe(16);
    for (const v of examples.vectors) expect(toHex(cmac(hex(v.key), hex(v.message))), v.name).toBe(v.tag);
  });

  it("Wycheproof aes_cmac: valid tags match, modified tags fail, bad key sizes throw", () => {
    let n = 0;
    for (const g of wycheproof.testGroups) {
      for (const t of g.tests) {
        n++;
        if (t.flags.includes("InvalidKeySize")) {
          expect(() => cmac(hex(t.key), hex(t.msg))).toThrow(/16, 24 or 32 bytes/);
          continue;
        }
        expect(cmacVerify(hex(t.key), hex(t.msg), hex(t.tag)), `tcId ${t.tcId}`).toBe(t.result === "valid");
        if (t.result === "valid") expect(toHex(cmac(hex(t.key), hex(t.msg)))).toBe(t.tag);
      }
    }
    expect(n).toBe(311);
  });

  it("truncated tags are the leftmost mac_length bytes; 0 means 16; out-of-range lengths throw", () => {
    const key = cmacKey(hex("2b7e151628aed2a6abf7158809cf4f3c"));
    const full = cmac(key, hex("6bc1bee22e409f96e93d7e117393172a"));
    expect(toHex(full)).toBe("070a16b46b4d4144f79bdd9dd04a287c");
    for (let len = 1; len <= 16; len++) {
      const tag = cmac(key, hex("6bc1bee22e409f96e93d7e117393172a"), len);
      expect(toHex(tag)).toBe(toHex(full.subarray(0, len)));
      expect(cmacVerify(key, hex("6bc1bee22e409f96e93d7e117393172a"), tag, len)).toBe(true);
      expect(cmacVerify(key, hex("6bc1bee22e409f96e93d7e117393172a"), tag, len === 16 ? 15 : len + 1)).toBe(
        false,
      );
    }
    expect(checkMacLength(0)).toBe(16);
    for (const bad of [-1, 17, 1.5]) expect(() => checkMacLength(bad)).toThrow(/mac_length/);
  });
});

describe("AES-CMAC against independent implementations", () => {
  it("@noble/ciphers' cmac", () => {
    for (const c of CASES) expect(toHex(cmac(c.key, c.msg))).toBe(toHex(nobleCmac(c.msg, c.key)));
  });

  let cli = true;
  try {
    execFileSync("openssl", ["mac", "-help"], { stdio: "ignore" });
  } catch {
    cli = false;
  }
  const dir = mkdtempSync(join(tmpdir(), "cmac-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it.skipIf(!cli)("the openssl mac CMAC command", () => {
    for (const [i, c] of CASES.entries()) {
      const file = join(dir, `m${i}`);
      writeFileSync(file, c.msg);
      const out = execFileSync("openssl", [
        "mac",
        "-cipher",
        `AES-${c.key.length * 8}-CBC`,
        "-macopt",
        `hexkey:${toHex(c.key)}`,
        "-in",
        file,
        "CMAC",
      ]);
      expect(toHex(cmac(c.key, c.msg))).toBe(out.toString().trim().toLowerCase());
    }
  });

  const runtime = opensslRuntime();
  it.skipIf(runtime === undefined)(
    `the same code on the Node 26 runtime${runtime ? "" : `: ${NO_RUNTIME_REASON}`}`,
    () => {
      const { results } = runOnOpenssl(CASES.map((c) => ({ fn: "cmac.cmac", args: [c.key, c.msg, 0] })));
      for (const [i, c] of CASES.entries()) {
        expect(toHex(ok<Uint8Array>(results[i]))).toBe(toHex(nobleCmac(c.msg, c.key)));
      }
    },
  );
});
