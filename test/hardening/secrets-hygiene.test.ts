import { describe, expect, it } from "vitest";
import { encodings, scan } from "../../scripts/scan-secrets.ts";
import { createTransitBackend } from "../../src/transit/backend.ts";
import { encodeKeyring } from "../../src/transit/keyring/codec.ts";
import { newKeyring } from "../../src/transit/keyring/keyring.ts";
import { JsonLogger } from "../../src/util/logger.ts";
import { CANARY_KEY, CANARY_PLAINTEXT, CANARY_PLAINTEXT_2 } from "../helpers/canaries.ts";
import { b64, TestEngine } from "../helpers/engine.ts";

describe("secrets hygiene", () => {
  it("the scanner finds a canary in any encoding (so the CI scan can fail)", () => {
    const key = Buffer.from(CANARY_KEY);
    for (const prefix of ["", "x", "xy", "xyz"]) {
      const hits = scan(
        new Map([
          ["log", `{"@message":"oops ${Buffer.concat([Buffer.from(prefix), key]).toString("base64")}"}`],
        ]),
      );
      expect(hits.length, `prefix ${JSON.stringify(prefix)}`).toBeGreaterThan(0);
    }
    expect(scan(new Map([["log", `value=${key.toString("hex")}`]]))).toHaveLength(1);
    expect(scan(new Map([["log", `error: ${CANARY_PLAINTEXT}`]]))).not.toHaveLength(0);
    expect(scan(new Map([["log", "nothing to see"]]))).toEqual([]);
    expect(encodings(key).length).toBeGreaterThan(4);
  });

  it("no log line, error or warning from good and bad requests carries plaintexts or key material", async () => {
    const lines: string[] = [];
    const logger = new JsonLogger((line) => lines.push(line), "trace");
    const e = new TestEngine(createTransitBackend({ logger }));
    const ring = newKeyring({ name: "canary", type: "aes256-gcm96", exportable: true });
    ring.versions.set(1, { key: CANARY_KEY, hmacKey: CANARY_KEY, creationTime: "2024-01-01T00:00:00Z" });
    ring.latestVersion = 1;
    ring.minDecryptionVersion = 1;
    e.storage.entries.set("policy/canary", encodeKeyring(ring));

    const pt = b64(CANARY_PLAINTEXT);
    const texts: string[] = [];
    const record = (o: { error: string | null; warnings: string[]; data: Record<string, unknown> }) => {
      texts.push(o.error ?? "", ...o.warnings);
      const items = o.data["batch_results"];
      if (Array.isArray(items))
        for (const r of items) texts.push(String((r as { error?: string }).error ?? ""));
    };
    const ct = String((await e.write("encrypt/canary", { plaintext: pt })).data["ciphertext"]);
    const requests: [string, Record<string, unknown>][] = [
      ["encrypt/canary", { plaintext: `${pt}!` }],
      ["encrypt/canary", { plaintext: { nested: CANARY_PLAINTEXT } }],
      ["encrypt/canary", { plaintext: [CANARY_PLAINTEXT] }],
      ["encrypt/canary", { plaintext: pt, key_version: CANARY_PLAINTEXT }],
      ["encrypt/canary", { plaintext: pt, context: CANARY_PLAINTEXT }],
      ["encrypt/canary", { plaintext: pt, associated_data: `${CANARY_PLAINTEXT_2}*` }],
      [
        "encrypt/canary",
        { batch_input: [{ plaintext: CANARY_PLAINTEXT }, { plaintext: { x: CANARY_PLAINTEXT_2 } }] },
      ],
      // Unknown parameter names are echoed in a warning, as Vault does; their values never are.
      ["encrypt/canary", { plaintext: pt, unknown_param: CANARY_PLAINTEXT }],
      ["decrypt/canary", { ciphertext: `${ct}x` }],
      ["decrypt/canary", { ciphertext: ct.replace("vault:v1:", "vault:v2:") }],
      ["decrypt/canary", { ciphertext: `vault:v1:${b64(CANARY_PLAINTEXT)}` }],
      ["decrypt/canary", { ciphertext: ct, associated_data: b64(CANARY_PLAINTEXT_2) }],
      ["decrypt/canary", { ciphertext: CANARY_PLAINTEXT }],
      ["rewrap/canary", { ciphertext: CANARY_PLAINTEXT }],
      ["encrypt/missing", { plaintext: pt }],
      ["keys/canary/config", { min_decryption_version: CANARY_PLAINTEXT }],
      ["datakey/plaintext/canary", { bits: CANARY_PLAINTEXT }],
    ];
    for (const [path, data] of requests) record(await e.write(path, data));
    await e.backend.handleRequest({ operation: "rollback", path: "", storage: e.storage });

    const hits = scan(
      new Map([
        ...texts.map((t, i): [string, string] => [`response-${i}`, t]),
        ...lines.map((l, i): [string, string] => [`log-${i}`, l]),
      ]),
    );
    expect(hits).toEqual([]);
    expect(texts.filter((t) => t !== "").length).toBeGreaterThan(10);
  });
});
