// Composite ML-DSA + ECDSA/Ed25519 signatures (src/crypto/hybrid-sig.ts): the draft's M' example and
// test vectors (test/vectors/composite-sigs), both-halves-must-verify, and cross-verification between
// noble's ML-DSA (here) and OpenSSL's (Node 26 runtime).
import { beforeAll, describe, expect, it } from "vitest";
import {
  compositeMessage,
  HYBRID_EC_TYPES,
  type HybridEcType,
  hybridEcPublicKey,
  hybridPublicKey,
  hybridScheme,
  hybridSign,
  hybridVerify,
} from "../../src/crypto/hybrid-sig.ts";
import { ML_DSA_PARAMETER_SETS, type MlDsaParameterSet, nobleMlDsa } from "../../src/crypto/mldsa.ts";
import {
  type Call,
  NO_RUNTIME_REASON,
  opensslRuntime,
  type Result,
  runOnOpenssl,
} from "./helpers/openssl-runtime.ts";
import { b64, hex, loadVectors, toHex } from "./helpers/vectors.ts";

interface CompositeFile {
  m: string;
  ctx: string;
  tests: { tcId: string; pk: string; sk: string; s: string; sWithContext: string }[];
  messageFormatSample: { m: string; ctx: string; mPrime: string };
}
const file = loadVectors<CompositeFile>("composite-sigs/testvectors-subset.json");
const M = b64(file.m);
const CTX = b64(file.ctx);

const COMPOSITES: Record<string, [MlDsaParameterSet, HybridEcType]> = {
  "id-MLDSA44-Ed25519-SHA512": ["44", "ed25519"],
  "id-MLDSA44-ECDSA-P256-SHA256": ["44", "ecdsa-p256"],
  "id-MLDSA65-ECDSA-P256-SHA512": ["65", "ecdsa-p256"],
  "id-MLDSA65-ECDSA-P384-SHA512": ["65", "ecdsa-p384"],
  "id-MLDSA65-Ed25519-SHA512": ["65", "ed25519"],
  "id-MLDSA87-ECDSA-P384-SHA512": ["87", "ecdsa-p384"],
  "id-MLDSA87-ECDSA-P521-SHA512": ["87", "ecdsa-p521"],
};

/** The traditional private key as this engine holds it: Ed25519 seed, or the ECDSA scalar from DER. */
function tradPrivate(ec: HybridEcType, der: Uint8Array): Uint8Array {
  if (ec === "ed25519") return der;
  // ECPrivateKey ::= SEQUENCE { version 1, privateKey OCTET STRING, ... }: 30 len 02 01 01 04 len d
  expect(toHex(der.subarray(2, 5))).toBe("020101");
  return der.subarray(7, 7 + (der[6] as number));
}

const composites = file.tests.filter((t) => t.tcId in COMPOSITES);

describe("composite signatures, known answers", () => {
  it("M' matches the draft's worked example (Prefix || Label || len(ctx) || ctx || SHA-512(M))", () => {
    const s = file.messageFormatSample;
    expect(toHex(compositeMessage(hybridScheme("65", "ecdsa-p256"), hex(s.m), hex(s.ctx)))).toBe(s.mPrime);
  });

  it("labels and pre-hashes of the registered pairs; the others are marked unregistered", () => {
    expect(hybridScheme("44", "ecdsa-p256").labelText).toBe("COMPSIG-MLDSA44-ECDSA-P256-SHA256");
    expect(hybridScheme("87", "ecdsa-p521").labelText).toBe("COMPSIG-MLDSA87-ECDSA-P521-SHA512");
    expect(hybridScheme("65", "ed25519").labelText).toBe("COMPSIG-MLDSA65-Ed25519-SHA512");
    const registered = ML_DSA_PARAMETER_SETS.flatMap((s) =>
      HYBRID_EC_TYPES.map((e) => hybridScheme(s, e)),
    ).filter((x) => x.registered);
    expect(registered.map((x) => `${x.set}/${x.ec}`).sort()).toEqual(
      Object.values(COMPOSITES)
        .map(([s, e]) => `${s}/${e}`)
        .sort(),
    );
  });

  it("the draft's test vectors: keys re-derive, signatures with and without context verify", () => {
    expect(composites.length).toBe(7);
    for (const t of composites) {
      const [set, ec] = COMPOSITES[t.tcId] as [MlDsaParameterSet, HybridEcType];
      const scheme = hybridScheme(set, ec);
      const sk = b64(t.sk);
      const key = nobleMlDsa.fromSeed(set, sk.subarray(0, 32));
      const ecPriv = tradPrivate(ec, sk.subarray(32));
      expect(toHex(hybridPublicKey(scheme, key, ecPriv)), t.tcId).toBe(toHex(b64(t.pk)));
      expect(hybridVerify(scheme, b64(t.pk), M, b64(t.s)), t.tcId).toBe(true);
      expect(hybridVerify(scheme, b64(t.pk), M, b64(t.sWithContext), CTX), t.tcId).toBe(true);
      expect(hybridVerify(scheme, b64(t.pk), M, b64(t.s), CTX), t.tcId).toBe(false);
      const ours = hybridSign(scheme, key, ecPriv, M, CTX);
      expect(hybridVerify(scheme, b64(t.pk), M, ours, CTX), t.tcId).toBe(true);
    }
  });

  it("the draft's pure ML-DSA vectors verify with ML-DSA alone", () => {
    for (const set of ML_DSA_PARAMETER_SETS) {
      const t = file.tests.find((x) => x.tcId === `id-ML-DSA-${set}`);
      if (t === undefined) throw new Error(`missing id-ML-DSA-${set}`);
      expect(toHex(nobleMlDsa.fromSeed(set, b64(t.sk)).publicKey)).toBe(toHex(b64(t.pk)));
      expect(nobleMlDsa.verify(set, b64(t.pk), M, b64(t.s))).toBe(true);
      expect(nobleMlDsa.verify(set, b64(t.pk), M, b64(t.sWithContext), CTX)).toBe(true);
    }
  });
});

function ecKey(ec: HybridEcType, seed: number): Uint8Array {
  const len = ec === "ecdsa-p384" ? 48 : ec === "ecdsa-p521" ? 66 : 32;
  const k = new Uint8Array(len).fill(seed);
  k[0] = ec === "ecdsa-p521" ? 1 : 0x11;
  return k;
}

describe("composite signatures, both halves must verify", () => {
  for (const set of ML_DSA_PARAMETER_SETS) {
    for (const ec of HYBRID_EC_TYPES) {
      it(`ML-DSA-${set} + ${ec}: round trip; one tampered half fails; halves do not mix`, () => {
        const scheme = hybridScheme(set, ec);
        const key = nobleMlDsa.fromSeed(set, new Uint8Array(32).fill(3));
        const ecPriv = ecKey(ec, 5);
        const pub = hybridPublicKey(scheme, key, ecPriv);
        const msg = new TextEncoder().encode("hybrid");
        const sig = hybridSign(scheme, key, ecPriv, msg);
        expect(hybridVerify(scheme, pub, msg, sig)).toBe(true);
        const split = nobleSigLength(set);
        for (const at of [10, split + 8]) {
          const bad = Uint8Array.from(sig);
          bad[at] = (bad[at] as number) ^ 1;
          expect(hybridVerify(scheme, pub, msg, bad), `tampered at ${at}`).toBe(false);
        }
        const other = hybridSign(scheme, key, ecPriv, new TextEncoder().encode("other"));
        const mixed = new Uint8Array([...sig.subarray(0, split), ...other.subarray(split)]);
        expect(hybridVerify(scheme, pub, msg, mixed)).toBe(false);
        expect(hybridVerify(scheme, pub, msg, sig.subarray(0, split))).toBe(false);
        expect(hybridVerify(scheme, pub.subarray(0, key.publicKey.length), msg, sig)).toBe(false);
        expect(toHex(pub.subarray(key.publicKey.length))).toBe(toHex(hybridEcPublicKey(ec, ecPriv)));
      });
    }
  }

  it("refuses unknown EC types and mismatched ML-DSA keys", () => {
    expect(() => hybridScheme("65", "rsa-2048" as HybridEcType)).toThrow(/invalid hybrid EC key type/);
    const key = nobleMlDsa.fromSeed("44", new Uint8Array(32));
    expect(() =>
      hybridSign(hybridScheme("65", "ed25519"), key, new Uint8Array(32), new Uint8Array(1)),
    ).toThrow(/does not match/);
  });
});

function nobleSigLength(set: MlDsaParameterSet): number {
  return { "44": 2420, "65": 3309, "87": 4627 }[set];
}

const runtime = opensslRuntime();
describe.skipIf(runtime === undefined)(
  `composite signatures, OpenSSL ML-DSA (Node 26 runtime)${runtime ? "" : `: ${NO_RUNTIME_REASON}`}`,
  () => {
    const pairs = ML_DSA_PARAMETER_SETS.flatMap((s) => HYBRID_EC_TYPES.map((e) => [s, e] as const));
    const seed = new Uint8Array(32).fill(8);
    const msg = new TextEncoder().encode("cross");
    const calls: Call[] = [];
    const nobleSigs = pairs.map(([s, e]) =>
      hybridSign(hybridScheme(s, e), nobleMlDsa.fromSeed(s, seed), ecKey(e, 9), msg, CTX),
    );
    const pubs = pairs.map(([s, e]) =>
      hybridPublicKey(hybridScheme(s, e), nobleMlDsa.fromSeed(s, seed), ecKey(e, 9)),
    );
    pairs.forEach(([s, e], i) => {
      calls.push({ fn: "chain.hybridSign", args: [s, e, seed, ecKey(e, 9), msg, CTX] });
      calls.push({ fn: "chain.hybridVerify", args: [s, e, pubs[i], msg, nobleSigs[i], CTX] });
    });
    for (const t of composites) {
      const [s, e] = COMPOSITES[t.tcId] as [MlDsaParameterSet, HybridEcType];
      calls.push({ fn: "chain.hybridVerify", args: [s, e, b64(t.pk), M, b64(t.sWithContext), CTX] });
    }
    let results: Result[] = [];
    beforeAll(() => {
      results = runOnOpenssl(calls).results;
    }, 60_000);

    it("each side verifies the other's signatures for all twelve pairs", () => {
      pairs.forEach(([s, e], i) => {
        const sig = (results[2 * i] as { ok: Uint8Array }).ok;
        expect(hybridVerify(hybridScheme(s, e), pubs[i] as Uint8Array, msg, sig, CTX), `${s}/${e}`).toBe(
          true,
        );
        expect((results[2 * i + 1] as { ok: boolean }).ok, `${s}/${e}`).toBe(true);
      });
    });

    it("the draft's vectors verify on OpenSSL's ML-DSA", () => {
      composites.forEach((t, i) => {
        expect((results[2 * pairs.length + i] as { ok: boolean }).ok, t.tcId).toBe(true);
      });
    });
  },
);
