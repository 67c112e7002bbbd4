// SLH-DSA (src/crypto/slhdsa.ts), all twelve parameter sets: ACVP keyGen known answers, OpenSSL's
// keys re-derived independently by noble, signatures cross-verified between noble (here, Node 20)
// and OpenSSL 3.5 (Node 26 runtime), context binding and malformed input.
import { beforeAll, describe, expect, it } from "vitest";
import {
  isSlhDsaParameterSet,
  nobleSlhDsa,
  SLH_DSA_PARAMETER_SETS,
  type SlhDsaParameterSet,
  slhDsaFromSeed,
  slhDsaN,
  slhDsaSizes,
} from "../../src/crypto/slhdsa.ts";
import {
  type Call,
  NO_RUNTIME_REASON,
  opensslRuntime,
  type Result,
  runOnOpenssl,
} from "./helpers/openssl-runtime.ts";
import { hex, loadVectors, toHex } from "./helpers/vectors.ts";

interface KeyGenVector {
  tcId: number;
  parameterSet: string;
  skSeed: string;
  skPrf: string;
  pkSeed: string;
  pk: string;
}
const acvp = loadVectors<{ tests: KeyGenVector[] }>("acvp/slh-dsa-keygen-fips205.json");
const MSG = new TextEncoder().encode("transit slh-dsa");
const CTX = new TextEncoder().encode("vault");
/** Signing with noble takes seconds for the "s" sets: noble signs the fast sets and one small one. */
const NOBLE_SIGNS: SlhDsaParameterSet[] = ["SLH-DSA-SHA2-128f", "SLH-DSA-SHAKE-128f", "SLH-DSA-SHA2-128s"];
/** noble's key generation for the "s" sets takes seconds too: re-derive the "f" sets' keys. */
const REDERIVE: SlhDsaParameterSet[] = [
  "SLH-DSA-SHA2-128f",
  "SLH-DSA-SHAKE-128f",
  "SLH-DSA-SHA2-192f",
  "SLH-DSA-SHAKE-256f",
];

describe("SLH-DSA, noble path", () => {
  it("ACVP keyGen (FIPS 205): one vector per parameter set, all twelve", () => {
    expect(acvp.tests.map((t) => t.parameterSet).sort()).toEqual([...SLH_DSA_PARAMETER_SETS].sort());
    for (const t of acvp.tests) {
      if (!isSlhDsaParameterSet(t.parameterSet)) throw new Error(t.parameterSet);
      const key = slhDsaFromSeed(t.parameterSet, hex(t.skSeed + t.skPrf + t.pkSeed));
      expect(toHex(key.publicKey).toUpperCase(), `tcId ${t.tcId}`).toBe(t.pk);
      expect(toHex(key.privateKey).toUpperCase()).toBe(t.skSeed + t.skPrf + t.pk);
    }
  }, 120_000);

  for (const set of NOBLE_SIGNS) {
    it(`${set}: signs and verifies; deterministic mode repeats, hedged does not; context binds`, () => {
      const key = nobleSlhDsa.generate(set);
      const sig = nobleSlhDsa.sign(key, MSG, { context: CTX });
      expect(sig.length).toBe(slhDsaSizes(set).signature);
      expect(nobleSlhDsa.verify(set, key.publicKey, MSG, sig, CTX)).toBe(true);
      expect(nobleSlhDsa.verify(set, key.publicKey, MSG, sig)).toBe(false);
      const bad = Uint8Array.from(sig);
      bad[100] = (bad[100] as number) ^ 1;
      expect(nobleSlhDsa.verify(set, key.publicKey, MSG, bad, CTX)).toBe(false);
      expect(nobleSlhDsa.verify(set, key.publicKey, MSG, sig.subarray(1), CTX)).toBe(false);
      if (set.endsWith("f")) {
        const d1 = nobleSlhDsa.sign(key, MSG, { deterministic: true });
        expect(toHex(nobleSlhDsa.sign(key, MSG, { deterministic: true }))).toBe(toHex(d1));
        expect(toHex(nobleSlhDsa.sign(key, MSG))).not.toBe(toHex(d1));
      }
    }, 60_000);
  }

  it("refuses wrong seed and key lengths, unknown sets and long contexts", () => {
    expect(() => slhDsaFromSeed("SLH-DSA-SHA2-128f", new Uint8Array(47))).toThrow(
      /seed has the wrong length/,
    );
    expect(() => nobleSlhDsa.fromPrivateKey("SLH-DSA-SHA2-128f", new Uint8Array(63))).toThrow(/wrong length/);
    expect(() => slhDsaSizes("SLH-DSA-SHA2-512f" as SlhDsaParameterSet)).toThrow(
      /invalid SLH-DSA parameter set/,
    );
    const key = nobleSlhDsa.fromPrivateKey("SLH-DSA-SHA2-128f", new Uint8Array(64));
    expect(() => nobleSlhDsa.sign(key, MSG, { context: new Uint8Array(256) })).toThrow(/at most 255/);
  });
});

const runtime = opensslRuntime();
describe.skipIf(runtime === undefined)(
  `SLH-DSA, OpenSSL path (Node 26 runtime)${runtime ? "" : `: ${NO_RUNTIME_REASON}`}`,
  () => {
    const nobleKeys = Object.fromEntries(NOBLE_SIGNS.map((s) => [s, nobleSlhDsa.generate(s)]));
    const nobleSigs = Object.fromEntries(
      NOBLE_SIGNS.map((s) => [
        s,
        nobleSlhDsa.sign(nobleKeys[s] as ReturnType<typeof nobleSlhDsa.generate>, MSG, { context: CTX }),
      ]),
    );
    const calls: Call[] = [{ fn: "chain.backends", args: [] }];
    for (const set of SLH_DSA_PARAMETER_SETS)
      calls.push({ fn: "slhdsa.opensslSlhDsa.generate", args: [set] });
    for (const t of acvp.tests) {
      const sk = hex(t.skSeed + t.skPrf + t.pk);
      calls.push({ fn: "slhdsa.opensslSlhDsa.fromPrivateKey", args: [t.parameterSet, sk] });
      calls.push({ fn: "chain.slhdsaSign", args: [t.parameterSet, sk, MSG, CTX] });
    }
    for (const set of NOBLE_SIGNS) {
      calls.push({
        fn: "slhdsa.opensslSlhDsa.verify",
        args: [set, nobleKeys[set]?.publicKey, MSG, nobleSigs[set], CTX],
      });
    }
    let results: Result[] = [];
    beforeAll(() => {
      results = runOnOpenssl(calls).results;
    }, 180_000);
    const val = <T>(i: number) => (results[i] as { ok: T }).ok;

    it("uses OpenSSL's SLH-DSA there", () => {
      expect(val<{ slhdsa: string }>(0).slhdsa).toBe("openssl");
    });

    it("OpenSSL's generated keys: noble re-derives PK.root from their seeds (one set per hash and size)", () => {
      SLH_DSA_PARAMETER_SETS.forEach((set, i) => {
        if (!REDERIVE.includes(set)) return;
        const k = val<{ privateKey: Uint8Array; publicKey: Uint8Array }>(1 + i);
        const n = slhDsaSizes(set).seed;
        expect(toHex(slhDsaFromSeed(set, k.privateKey.subarray(0, n)).privateKey), set).toBe(
          toHex(k.privateKey),
        );
        expect(toHex(k.publicKey)).toBe(toHex(k.privateKey.subarray(2 * slhDsaN(set))));
      });
    }, 120_000);

    it("ACVP keys on OpenSSL; OpenSSL's signatures verify with noble, all twelve sets", () => {
      const base = 1 + SLH_DSA_PARAMETER_SETS.length;
      acvp.tests.forEach((t, i) => {
        const set = t.parameterSet as SlhDsaParameterSet;
        expect(toHex(val<{ publicKey: Uint8Array }>(base + 2 * i).publicKey).toUpperCase()).toBe(t.pk);
        const sig = val<Uint8Array>(base + 2 * i + 1);
        expect(nobleSlhDsa.verify(set, hex(t.pk), MSG, sig, CTX), set).toBe(true);
        expect(nobleSlhDsa.verify(set, hex(t.pk), MSG, sig), set).toBe(false);
      });
    });

    it("noble's signatures verify with OpenSSL", () => {
      const base = 1 + SLH_DSA_PARAMETER_SETS.length + 2 * acvp.tests.length;
      NOBLE_SIGNS.forEach((set, i) => {
        expect(val<boolean>(base + i), set).toBe(true);
      });
    });
  },
);
