/**
 * src/crypto/key-rebuild.ts against node:crypto's own keys: numbers taken
 * from keys OpenSSL generated (its JWK export) rebuild into the same
 * PKCS #8 / SPKI, the CRT values computed here equal OpenSSL's, and
 * inconsistent numbers are refused.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  ecKeyFromNumbers,
  ecPointOnCurve,
  KeyRebuildError,
  modInverse,
  rsaKeyFromNumbers,
  rsaModulusBits,
  rsaPublicKeyFromNumbers,
} from "../../src/crypto/key-rebuild.ts";

const num = (b64u: string | undefined): bigint =>
  BigInt(`0x${Buffer.from(b64u ?? "", "base64url").toString("hex") || "0"}`);
const jwk = (k: KeyObject) => k.export({ format: "jwk" });

describe("modInverse", () => {
  it("known answers and the defining property", () => {
    expect(modInverse(3n, 11n)).toBe(4n);
    expect(modInverse(10n, 17n)).toBe(12n);
    expect(modInverse(-3n, 11n)).toBe(7n);
    const m = 2n ** 127n - 1n;
    for (const a of [2n, 12345678901234567890n, m - 1n]) expect((a * modInverse(a, m)) % m).toBe(1n);
  });
});

describe("RSA", () => {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const k = jwk(privateKey);
  const numbers = { n: num(k.n), e: num(k.e), d: num(k.d), p: num(k.p), q: num(k.q) };

  it("without CRT values: computes OpenSSL's dp, dq and qinv, and the same key", () => {
    const rebuilt = rsaKeyFromNumbers(numbers);
    expect(rebuilt.privateKey).toEqual(privateKey.export({ format: "der", type: "pkcs8" }));
    expect(rebuilt.publicKey).toEqual(publicKey.export({ format: "der", type: "spki" }));
    expect(modInverse(numbers.q, numbers.p)).toBe(num(k.qi));
    expect(rsaModulusBits(rebuilt.publicKey)).toBe(2048);
  });

  it("with CRT values given, and the public key alone", () => {
    const rebuilt = rsaKeyFromNumbers({ ...numbers, dp: num(k.dp), dq: num(k.dq), qinv: num(k.qi) });
    expect(
      createPrivateKey({ key: rebuilt.privateKey as Buffer, format: "der", type: "pkcs8" }).export({
        format: "jwk",
      }),
    ).toEqual(k);
    expect(rsaPublicKeyFromNumbers(numbers.n, numbers.e)).toEqual(
      publicKey.export({ format: "der", type: "spki" }),
    );
  });

  it("primes that do not multiply to N are refused", () => {
    expect(() => rsaKeyFromNumbers({ ...numbers, q: numbers.q + 2n })).toThrow(KeyRebuildError);
    expect(() => rsaKeyFromNumbers({ ...numbers, p: 1n, q: numbers.n })).toThrow(
      "RSA primes do not match the modulus",
    );
  });
});

describe("ECDSA", () => {
  for (const [curve, name] of [
    ["p256", "P-256"],
    ["p384", "P-384"],
    ["p521", "P-521"],
  ] as const) {
    it(`${curve}: (x, y, d) rebuild OpenSSL's key; a wrong d or an off-curve point is refused`, () => {
      const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: name });
      const k = jwk(privateKey);
      const [x, y, d] = [num(k.x), num(k.y), num(k.d)];
      const rebuilt = ecKeyFromNumbers(curve, x, y, d);
      expect(rebuilt.privateKey).toEqual(privateKey.export({ format: "der", type: "pkcs8" }));
      expect(rebuilt.publicKey).toEqual(publicKey.export({ format: "der", type: "spki" }));
      expect(ecKeyFromNumbers(curve, x, y).privateKey).toBeUndefined();
      expect(() => ecKeyFromNumbers(curve, x, y, d + 1n)).toThrow(
        "EC private key does not match its public key",
      );
      expect(() => ecKeyFromNumbers(curve, x, y + 1n)).toThrow(KeyRebuildError);
      expect(() => ecKeyFromNumbers(curve, x, y, 0n)).toThrow("EC private key is out of range");
    });
  }

  it("ecPointOnCurve: an OpenSSL point is on P-256, a changed one and a compressed one are not", () => {
    const k = jwk(generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey);
    const point = Buffer.concat([
      Buffer.of(4),
      Buffer.from(k.x ?? "", "base64url"),
      Buffer.from(k.y ?? "", "base64url"),
    ]);
    expect(ecPointOnCurve("1.2.840.10045.3.1.7", point)).toBe(true);
    const bad = Buffer.from(point);
    bad[64] = (bad[64] as number) ^ 1;
    expect(ecPointOnCurve("1.2.840.10045.3.1.7", bad)).toBe(false);
    expect(ecPointOnCurve("1.2.840.10045.3.1.7", Buffer.concat([Buffer.of(2), point.subarray(1, 33)]))).toBe(
      false,
    );
    expect(ecPointOnCurve("1.3.132.0.34", point)).toBe(false);
  });
});
