import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { b64, TestEngine, unb64 } from "../helpers/engine.ts";

const SIZES = [0, 1, 15, 16, 17, 64, 1024, 4096, 65535, 65536, 65537, 1 << 20];

describe("round trips for every symmetric type and size 0 to 1 MiB", () => {
  for (const type of ["aes128-gcm96", "aes256-gcm96", "chacha20-poly1305"]) {
    for (const derived of [false, true]) {
      it(`${type}${derived ? " derived" : ""}`, async () => {
        const e = new TestEngine();
        await e.write("keys/k", { type, derived });
        const context = derived ? { context: b64("ctx") } : {};
        for (const size of SIZES) {
          const pt = randomBytes(size);
          const aad = size % 2 === 0 ? { associated_data: b64(`aad-${size}`) } : {};
          const enc = await e.write("encrypt/k", { plaintext: b64(pt), ...context, ...aad });
          expect(enc.status).toBe(200);
          const dec = await e.write("decrypt/k", { ciphertext: enc.data["ciphertext"], ...context, ...aad });
          expect(dec.status).toBe(200);
          expect(unb64(dec.data["plaintext"]).equals(pt)).toBe(true);
        }
      });
    }
  }

  it("two encryptions of one plaintext differ (random nonces)", async () => {
    const e = new TestEngine();
    await e.write("keys/k");
    const a = await e.write("encrypt/k", { plaintext: b64("same") });
    const b = await e.write("encrypt/k", { plaintext: b64("same") });
    expect(a.data["ciphertext"]).not.toBe(b.data["ciphertext"]);
  });

  it("RSA keys encrypt with OAEP and decrypt their own ciphertexts", async () => {
    const e = new TestEngine();
    await e.write("keys/r", { type: "rsa-2048" });
    const enc = await e.write("encrypt/r", { plaintext: b64("rsa secret") });
    expect(String(enc.data["ciphertext"])).toMatch(/^vault:v1:/);
    expect(
      unb64(
        (await e.write("decrypt/r", { ciphertext: enc.data["ciphertext"] })).data["plaintext"],
      ).toString(),
    ).toBe("rsa secret");
    expect((await e.write("encrypt/r", { plaintext: b64("x"), associated_data: b64("a") })).error).toBe(
      "'[0].associated_data' provided for non-AEAD cipher suite rsa-2048",
    );
  });
});
