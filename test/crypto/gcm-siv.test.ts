// AES-GCM-SIV (src/crypto/gcm-siv.ts): RFC 8452 and Wycheproof aes_gcm_siv on noble here (Node 20)
// and on OpenSSL 3.5 through the Node 26 runtime, and byte-identical output of the two paths.
import { beforeAll, describe, expect, it } from "vitest";
import { gcmSivImpl, nobleGcmSiv } from "../../src/crypto/gcm-siv.ts";
import {
  type Call,
  NO_RUNTIME_REASON,
  opensslRuntime,
  type Result,
  runOnOpenssl,
} from "./helpers/openssl-runtime.ts";
import { hex, loadVectors, toHex, type WycheproofFile, type WycheproofTest } from "./helpers/vectors.ts";

interface AeadGroup {
  keySize: number;
  tests: (WycheproofTest & { key: string; iv: string; aad: string; msg: string; ct: string; tag: string })[];
}
const wycheproof = loadVectors<WycheproofFile<AeadGroup>>("wycheproof/aes_gcm_siv_test.json");
const tests = wycheproof.testGroups.flatMap((g) => g.tests);

describe("AES-GCM-SIV, noble path", () => {
  it("runs noble on this Node unless it has OpenSSL's GCM-SIV", () => {
    expect(gcmSivImpl().backend).toBe(
      process.versions.openssl.startsWith("3.0") ? "noble" : gcmSivImpl().backend,
    );
  });

  it("RFC 8452 appendix C vectors (as Wycheproof carries them)", () => {
    const rfc = tests.filter((t) => t.comment === "RFC 8452");
    expect(rfc.length).toBeGreaterThanOrEqual(40);
    for (const t of rfc) {
      expect(toHex(nobleGcmSiv.seal(hex(t.key), hex(t.iv), hex(t.msg), hex(t.aad))), `tcId ${t.tcId}`).toBe(
        t.ct + t.tag,
      );
    }
  });

  it("Wycheproof aes_gcm_siv: valid cases seal and open, modified tags fail", () => {
    for (const t of tests) {
      const args = [hex(t.key), hex(t.iv)] as const;
      if (t.result === "valid") {
        expect(toHex(nobleGcmSiv.seal(...args, hex(t.msg), hex(t.aad))), `tcId ${t.tcId}`).toBe(t.ct + t.tag);
        expect(toHex(nobleGcmSiv.open(...args, hex(t.ct + t.tag), hex(t.aad)))).toBe(t.msg);
      } else {
        expect(() => nobleGcmSiv.open(...args, hex(t.ct + t.tag), hex(t.aad)), `tcId ${t.tcId}`).toThrow(
          /authentication failed/,
        );
      }
    }
  });

  it("a repeated nonce reveals only equality: different plaintexts give unrelated ciphertexts", () => {
    const key = new Uint8Array(32).fill(5);
    const nonce = new Uint8Array(12);
    const a = nobleGcmSiv.seal(key, nonce, new Uint8Array(32));
    const b = nobleGcmSiv.seal(key, nonce, new Uint8Array(32).fill(1));
    expect(toHex(nobleGcmSiv.seal(key, nonce, new Uint8Array(32)))).toBe(toHex(a));
    // With GCM, a XOR b would equal the plaintexts' XOR (all 0x01): with SIV the key streams differ.
    const x = a.subarray(0, 32).map((v, i) => v ^ (b[i] as number));
    expect(toHex(x)).not.toBe("01".repeat(32));
  });

  it("rejects wrong key and nonce sizes", () => {
    expect(() => nobleGcmSiv.seal(new Uint8Array(24), new Uint8Array(12), new Uint8Array(1))).toThrow(
      /16 or 32/,
    );
    expect(() => nobleGcmSiv.seal(new Uint8Array(32), new Uint8Array(16), new Uint8Array(1))).toThrow(
      /12 bytes/,
    );
    expect(() => nobleGcmSiv.open(new Uint8Array(32), new Uint8Array(12), new Uint8Array(15))).toThrow(
      /authentication failed/,
    );
  });
});

const runtime = opensslRuntime();
describe.skipIf(runtime === undefined)(
  `AES-GCM-SIV, OpenSSL path (Node 26 runtime)${runtime ? "" : `: ${NO_RUNTIME_REASON}`}`,
  () => {
    const calls: Call[] = [{ fn: "chain.backends", args: [] }];
    for (const t of tests) {
      calls.push(
        t.result === "valid"
          ? { fn: "gcmSiv.opensslGcmSiv.seal", args: [hex(t.key), hex(t.iv), hex(t.msg), hex(t.aad)] }
          : { fn: "gcmSiv.opensslGcmSiv.open", args: [hex(t.key), hex(t.iv), hex(t.ct + t.tag), hex(t.aad)] },
      );
    }
    const lengths = [0, 1, 16, 17, 64, 4096];
    const key = new Uint8Array(32).map((_, i) => i);
    const nonce = new Uint8Array(12).fill(7);
    for (const n of lengths)
      calls.push({
        fn: "gcmSiv.opensslGcmSiv.seal",
        args: [key, nonce, new Uint8Array(n).fill(n & 255), new Uint8Array(3)],
      });
    let results: Result[] = [];
    beforeAll(() => {
      results = runOnOpenssl(calls).results;
    }, 60_000);

    it("uses OpenSSL's aes-256-gcm-siv there", () => {
      expect((results[0] as { ok: { gcmSiv: string } }).ok.gcmSiv).toBe("openssl");
    });

    it("Wycheproof and RFC 8452 on OpenSSL", () => {
      tests.forEach((t, i) => {
        const r = results[i + 1] as Result;
        if (t.result === "valid")
          expect(toHex((r as { ok: Uint8Array }).ok), `tcId ${t.tcId}`).toBe(t.ct + t.tag);
        else expect((r as { error: string }).error, `tcId ${t.tcId}`).toMatch(/authentication failed/);
      });
    });

    it("byte-identical to noble", () => {
      lengths.forEach((n, i) => {
        const r = results[1 + tests.length + i] as { ok: Uint8Array };
        expect(toHex(r.ok)).toBe(
          toHex(nobleGcmSiv.seal(key, nonce, new Uint8Array(n).fill(n & 255), new Uint8Array(3))),
        );
      });
    });

    it("TRANSIT_PQC_FORCE_NOBLE=1 makes every primitive take the noble path there, with the same bytes", () => {
      const { results: forced } = runOnOpenssl(
        [
          { fn: "chain.backends", args: [] },
          { fn: "gcmSiv.gcmSivSeal", args: [key, nonce, new Uint8Array(17), new Uint8Array(3)] },
        ],
        true,
      );
      expect((forced[0] as { ok: unknown }).ok).toEqual({
        mldsa: "noble",
        slhdsa: "noble",
        ed25519ctx: "noble",
        gcmSiv: "noble",
      });
      expect(toHex((forced[1] as { ok: Uint8Array }).ok)).toBe(
        toHex(nobleGcmSiv.seal(key, nonce, new Uint8Array(17), new Uint8Array(3))),
      );
    });
  },
);
