import { describe, expect, it } from "vitest";
import { b64, TestEngine, unb64 } from "../helpers/engine.ts";

describe("batch encrypt/decrypt/rewrap", () => {
  it("mixed items: per-item errors, references echoed, order kept, overall 400", async () => {
    const e = new TestEngine();
    await e.write("keys/k");
    const out = await e.write("encrypt/k", {
      batch_input: [
        { plaintext: b64("one"), reference: "r1" },
        { plaintext: "not base64!", reference: "r2" },
        { plaintext: b64("three"), reference: "r3", key_version: 5 },
        { plaintext: b64("four") },
      ],
    });
    expect(out.status).toBe(400);
    const results = out.data["batch_results"] as Record<string, unknown>[];
    expect(results.map((r) => r["reference"])).toEqual(["r1", "r2", "r3", ""]);
    expect(results[0]).toMatchObject({ key_version: 1 });
    expect(String(results[0]?.["ciphertext"])).toMatch(/^vault:v1:/);
    expect(results[1]).toEqual({ error: "illegal base64 data at input byte 3", reference: "r2" });
    expect(results[2]).toEqual({
      error: "requested version for encryption is higher than the latest key version",
      reference: "r3",
    });
    expect(results[3]?.["error"]).toBeUndefined();

    const dec = await e.write("decrypt/k", {
      batch_input: [
        { ciphertext: results[0]?.["ciphertext"], reference: "a" },
        { ciphertext: "vault:v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", reference: "b" },
        { ciphertext: results[3]?.["ciphertext"], reference: "c" },
      ],
    });
    expect(dec.status).toBe(400);
    const dr = dec.data["batch_results"] as Record<string, unknown>[];
    expect(unb64(dr[0]?.["plaintext"]).toString()).toBe("one");
    expect(dr[1]).toEqual({ error: "cipher: message authentication failed", reference: "b" });
    expect(unb64(dr[2]?.["plaintext"]).toString()).toBe("four");
  });

  it("partial_failure_response_code replaces 400 only when some items succeed", async () => {
    const e = new TestEngine();
    await e.write("keys/k");
    const partial = await e.write("encrypt/k", {
      partial_failure_response_code: 207,
      batch_input: [{ plaintext: b64("ok") }, { plaintext: "%%%" }],
    });
    expect(partial.status).toBe(207);
    const allBad = await e.write("encrypt/k", {
      partial_failure_response_code: 207,
      batch_input: [{ plaintext: "%%%" }, { plaintext: "***" }],
    });
    expect(allBad.status).toBe(400);
    const badCode = await e.write("encrypt/k", {
      partial_failure_response_code: 900,
      batch_input: [{ plaintext: b64("ok") }, { plaintext: "%%%" }],
    });
    expect(badCode.status).toBe(400);
    expect(badCode.warnings[0]).toMatch(/invalid HTTP response code override/);
    const allGood = await e.write("encrypt/k", {
      batch_input: [{ plaintext: b64("a") }, { plaintext: b64("b") }],
    });
    expect(allGood.status).toBe(200);
  });

  it("context must be set in all items or none", async () => {
    const e = new TestEngine();
    await e.write("keys/d", { derived: true });
    const out = await e.write("encrypt/d", {
      batch_input: [{ plaintext: b64("a"), context: b64("c") }, { plaintext: b64("b") }],
    });
    expect(out.status).toBe(400);
    expect(out.error).toBe("context should be set either in all the request blocks or in none");
  });

  it("batch rewrap moves every item to the latest version", async () => {
    const e = new TestEngine();
    await e.write("keys/k");
    const enc = await e.write("encrypt/k", {
      batch_input: [{ plaintext: b64("a") }, { plaintext: b64("b") }],
    });
    await e.write("keys/k/rotate");
    const items = (enc.data["batch_results"] as Record<string, unknown>[]).map((r, i) => ({
      ciphertext: r["ciphertext"],
      reference: `x${i}`,
    }));
    const rw = await e.write("rewrap/k", { batch_input: items });
    expect(rw.status).toBe(200);
    const results = rw.data["batch_results"] as Record<string, unknown>[];
    expect(results.map((r) => r["key_version"])).toEqual([2, 2]);
    expect(results.map((r) => r["reference"])).toEqual(["x0", "x1"]);
  });

  it("malformed batch_input: Vault's decoding message in a 500 (a plain error there)", async () => {
    const e = new TestEngine();
    await e.write("keys/k");
    expect((await e.write("encrypt/k", { batch_input: [] })).error).toBe("missing batch input to process");
    const notMap = await e.write("encrypt/k", { batch_input: ["x"] });
    expect(notMap.status).toBe(500);
    expect(notMap.error).toBe("failed to parse batch input: [0] expected a map, got 'string'");
    const typed = await e.write("encrypt/k", { batch_input: [{ plaintext: 5 }, { reference: 1 }] });
    expect(typed.status).toBe(500);
    expect(typed.error).toContain(
      "'[0].plaintext' expected type 'string', got unconvertible type 'json.Number'",
    );
    expect(typed.error).toContain("'[1].plaintext' missing plaintext to encrypt");
    expect((await e.write("decrypt/k", { batch_input: [{}] })).error).toContain(
      "'[0].ciphertext' missing ciphertext to decrypt",
    );
  });
});
