/**
 * Property tests of every path's parameters through the framework: random
 * JSON of the wrong types, huge and empty strings, invalid and non-canonical
 * base64, unicode, deep nesting, mangled ciphertexts and edge versions. Every
 * case must end in a 2xx or a 4xx with a message, or in one of the 500s
 * Vault answers for a caller's mistake (a plain Go error there, with its
 * text), never in the generic 500 an unexpected exception becomes, nor a
 * throw; and a failed request must leave storage exactly as it was.
 */
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { b64, TestEngine } from "../helpers/engine.ts";
import { jsonValue } from "./helpers/arbitraries.ts";

/**
 * CI runs at least FUZZ_TOTAL (default 100 000) cases, spread evenly over the
 * paths; FUZZ_RUNS_PER_PATH overrides the share for a long local run, e.g.
 * FUZZ_RUNS_PER_PATH=50000 npx vitest run test/hardening/fuzz-engine.test.ts
 */
const FUZZ_TOTAL = Number(process.env["FUZZ_TOTAL"] ?? 100_000);
let casesRun = 0;
let firstStart = 0;
let firstCpu: NodeJS.CpuUsage | null = null;
/**
 * Every this many cases a path's engine starts again from its seeded storage
 * (same keys, so the seeded ciphertexts stay valid): without it, the rotate
 * path's keyrings grow by a version per case and each write re-encodes them all.
 */
const RESEED_EVERY = 500;

/** Storage as it was: InMemoryStorage copies values in, so an unchanged entry keeps its array. */
function shallowSnapshot(e: TestEngine): Map<string, Uint8Array> {
  return new Map(e.storage.entries);
}

/** Paths whose value differs between two snapshots (same array, or same bytes, is unchanged). */
function changedPaths(before: Map<string, Uint8Array>, after: Map<string, Uint8Array>): string[] {
  const changed: string[] = [];
  for (const [k, v] of after) {
    const old = before.get(k);
    if (old === undefined || (old !== v && !Buffer.from(old).equals(Buffer.from(v)))) changed.push(k);
  }
  for (const k of before.keys()) if (!after.has(k)) changed.push(k);
  return changed;
}

const KEY_NAMES = ["k", "d", "c", "h", "e", "p", "missing", "a.b-c"];

async function seededEngine(): Promise<{ e: TestEngine; ciphertexts: string[] }> {
  const e = new TestEngine();
  await e.write("keys/k", { exportable: true, allow_plaintext_backup: true });
  await e.write("keys/k/rotate");
  await e.write("keys/d", { derived: true });
  await e.write("keys/c", { derived: true, convergent_encryption: true });
  await e.write("keys/h", { type: "hmac" });
  await e.write("keys/e", { type: "ed25519" });
  await e.write("keys/p", { type: "ecdsa-p256" });
  const ciphertexts: string[] = [];
  for (const pt of ["", "a", "hello world"]) {
    ciphertexts.push(String((await e.write("encrypt/k", { plaintext: b64(pt) })).data["ciphertext"]));
  }
  return { e, ciphertexts };
}

function base64ish(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.uint8Array({ maxLength: 64 }).map((b) => b64(b)),
    fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => b64(b).replace(/=+$/, "")),
    fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => `${b64(b)}=`),
    fc.string({ maxLength: 40 }),
    fc.constantFrom("", "=", "==", "a===", "YQ", "YQ=", "YR==", "Zm9v\n", " Zm9v", "Zm9v!", "\u00e9t\u00e9"),
  );
}

function versionish(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom(
      0,
      -1,
      1,
      2,
      3,
      2 ** 31,
      2 ** 53,
      -(2 ** 53),
      Number.MAX_SAFE_INTEGER + 2,
      1.5,
      "1",
      "x",
      "",
      true,
      null,
    ),
    fc.integer(),
  );
}

function mangled(ciphertexts: string[]): fc.Arbitrary<string> {
  const base = fc.constantFrom(...ciphertexts);
  return fc.oneof(
    base,
    fc.tuple(base, fc.nat(), fc.integer({ min: 1, max: 255 })).map(([ct, i, x]) => {
      const raw = Buffer.from(ct.slice(9), "base64");
      if (raw.length === 0) return ct;
      raw[i % raw.length] = (raw[i % raw.length] ?? 0) ^ x;
      return ct.slice(0, 9) + raw.toString("base64");
    }),
    fc.tuple(base, fc.nat()).map(([ct, n]) => ct.slice(0, n % (ct.length + 1))),
    fc.tuple(base, versionish()).map(([ct, v]) => `vault:v${String(v)}:${ct.slice(9)}`),
    fc.string({ maxLength: 60 }),
  );
}

function fieldValue(name: string, ciphertexts: string[]): fc.Arbitrary<unknown> {
  const generic = jsonValue();
  const specific: Record<string, fc.Arbitrary<unknown>> = {
    plaintext: base64ish(),
    input: base64ish(),
    context: base64ish(),
    nonce: base64ish(),
    associated_data: base64ish(),
    ciphertext: mangled(ciphertexts),
    signature: mangled(ciphertexts),
    hmac: mangled(ciphertexts),
    key_version: versionish(),
    min_decryption_version: versionish(),
    min_encryption_version: versionish(),
    min_available_version: versionish(),
    bits: fc.constantFrom(0, 64, 128, 256, 512, 1024, -256, "256", "x"),
    bytes: fc.oneof(fc.constantFrom(0, 1, 32, -1, 2 ** 40, "16", "x"), fc.integer({ min: -10, max: 300 })),
    type: fc.constantFrom(
      "aes128-gcm96",
      "aes256-gcm96",
      "chacha20-poly1305",
      "ed25519",
      "ecdsa-p256",
      "hmac",
      "rsa-2048x",
      "",
      "AES256-GCM96",
      "managed_key",
      "aes256-gcm-siv",
      "aes128-cbc",
      "aes256-cmac",
      "ml-dsa",
      "slh-dsa",
      "hybrid",
    ),
    parameter_set: fc.constantFrom("", "44", "65", "87", "66", "sha2-128f", "SLH-DSA-SHA2-128s", "x"),
    hybrid_key_type_pqc: fc.constantFrom("", "ml-dsa", "slh-dsa", "ml-kem"),
    hybrid_key_type_ec: fc.constantFrom("", "ecdsa-p256", "ed25519", "rsa-2048", "x25519"),
    iv: base64ish(),
    signature_context: base64ish(),
    mac_length: fc.constantFrom(0, 1, 8, 16, 17, -1, "8", "x"),
    key_size: fc.constantFrom(0, 16, 32, 64, 513, -1, "x"),
    auto_rotate_period: fc.constantFrom(0, 59, 3600, "1h", "30m", "-1h", "forever", 2 ** 40),
    batch_input: fc.oneof(
      fc.array(
        fc.record(
          {
            plaintext: base64ish(),
            ciphertext: mangled(ciphertexts),
            context: base64ish(),
            key_version: versionish(),
            reference: fc.string({ maxLength: 10 }),
            input: base64ish(),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 5 },
      ),
      generic,
    ),
  };
  return fc.oneof({ arbitrary: specific[name] ?? generic, weight: 4 }, { arbitrary: generic, weight: 1 });
}

/** Fills a route pattern's named groups: mostly known names, sometimes junk. */
function concretePath(pattern: string): fc.Arbitrary<string> {
  const groups = [...pattern.matchAll(/\(\?<(\w+)>/g)].map((m) => m[1] ?? "");
  return fc
    .tuple(
      ...groups.map((g) =>
        fc.oneof(
          { arbitrary: fc.constantFrom(...groupValues(g)), weight: 5 },
          { arbitrary: fc.string({ minLength: 1, maxLength: 12 }), weight: 1 },
        ),
      ),
    )
    .map((values) => {
      let i = 0;
      let out = pattern.replace(/^\^/, "").replace(/\$$/, "");
      // Replace each named group (including its body) with its value.
      while (out.includes("(?<")) {
        const start = out.indexOf("(?<");
        let depth = 0;
        let end = start;
        for (; end < out.length; end++) {
          if (out[end] === "(") depth++;
          else if (out[end] === ")" && --depth === 0) break;
        }
        out = out.slice(0, start) + String(values[i++] ?? "x") + out.slice(end + 1);
      }
      return out.replace(/\(\?:\/\)\?|\(\?:|\)\?|\/\?$/g, "").replace(/\?/g, "");
    });
}

function groupValues(group: string): string[] {
  switch (group) {
    case "name":
    case "source":
    case "destination":
      return KEY_NAMES;
    case "plaintext":
      return ["plaintext", "wrapped", "other"];
    case "version":
      return ["1", "2", "latest", "0", "-1", "99"];
    case "type":
      return ["encryption-key", "signing-key", "hmac-key", "public-key", "bogus"];
    case "hash_algorithm":
    case "urlalgorithm":
      return ["sha2-256", "sha2-512", "sha3-256", "sha1", "md5"];
    case "source_or_bytes":
    case "urlbytes":
    case "bytes":
      return ["32", "platform", "all", "-1", "x"];
    default:
      return ["x", "1"];
  }
}

describe("fuzzing every path through the framework", async () => {
  const { e: probe } = await seededEngine();
  const definitions = probe.backend.pathDefinitions;
  const runsPerPath = Number(
    process.env["FUZZ_RUNS_PER_PATH"] ?? Math.ceil(FUZZ_TOTAL / Math.max(1, definitions.length)),
  );

  afterAll(() => {
    const seconds = ((performance.now() - firstStart) / 1000).toFixed(1);
    const cpu = process.cpuUsage(firstCpu ?? undefined);
    const cpuSeconds = ((cpu.user + cpu.system) / 1e6).toFixed(1);
    console.log(`fuzz (engine, in process): ${casesRun} cases across ${definitions.length} paths`);
    // Parseable summary line (docs/hardening.md's table is filled from it).
    console.log(
      `FUZZ-RESULT suite=engine cases=${casesRun} paths=${definitions.length} runs_per_path=${runsPerPath} seconds=${seconds} cpu_seconds=${cpuSeconds}`,
    );
  });

  for (const def of definitions) {
    const ops = Object.keys(def.operations).filter((op) => op !== "help");
    it(`${def.pattern} [${ops.join(",")}]`, async () => {
      if (firstStart === 0) {
        firstStart = performance.now();
        firstCpu = process.cpuUsage();
      }
      const seeded = await seededEngine();
      const { ciphertexts } = seeded;
      const seedEntries = new Map(seeded.e.storage.entries);
      let e = seeded.e;
      let pathCases = 0;
      const fieldNames = Object.keys(def.fields ?? {});
      const dataArb = fc
        .dictionary(
          fc.oneof(
            { arbitrary: fc.constantFrom(...(fieldNames.length > 0 ? fieldNames : ["x"])), weight: 9 },
            { arbitrary: fc.string({ maxLength: 6 }), weight: 1 },
          ),
          fc.constant(null),
          { maxKeys: 6 },
        )
        .chain((shape) =>
          fc.record(Object.fromEntries(Object.keys(shape).map((k) => [k, fieldValue(k, ciphertexts)]))),
        );
      await fc.assert(
        fc.asyncProperty(
          concretePath(def.pattern),
          fc.constantFrom(...ops),
          dataArb,
          async (path, op, data) => {
            casesRun++;
            if (++pathCases % RESEED_EVERY === 0) {
              e = new TestEngine();
              for (const [k, v] of seedEntries) e.storage.entries.set(k, v);
            }
            // RSA keys are slow to make and add nothing here beyond what the RSA tests cover.
            if (typeof data["type"] === "string" && data["type"].startsWith("rsa")) return;
            const before = shallowSnapshot(e);
            const out = await e.request(
              op as Parameters<TestEngine["request"]>[0],
              path,
              data as Record<string, unknown>,
            );
            const what = `${op} ${path} ${JSON.stringify(data).slice(0, 300)} -> ${out.error}`;
            if (out.status === 500) {
              // Vault's plain errors keep their text; an unexpected exception would be "internal error".
              expect(out.error ?? "", what).not.toMatch(/^(internal error)?$/);
            } else {
              expect(out.status, what).toBeLessThan(500);
            }
            if (out.status >= 400 && out.status !== 404 && out.status !== 405) {
              // A failed batch carries its messages per item, as Vault's does.
              const items = out.data["batch_results"];
              const messages = Array.isArray(items)
                ? items.map((r) => (r as { error?: string }).error ?? "")
                : [out.error ?? ""];
              expect(messages.some((m) => m !== "")).toBe(true);
            }
            if (out.status >= 400) {
              let changed = changedPaths(before, shallowSnapshot(e));
              // An upsert (create on encrypt) makes the key before its items can fail, as in Vault.
              if (op === "create") changed = changed.filter((k) => before.has(k));
              expect(changed, `${op} ${path} failed with ${out.status} but changed storage`).toEqual([]);
            }
          },
        ),
        { numRuns: runsPerPath, seed: Number(process.env["FUZZ_SEED"] ?? 20261125) },
      );
    }, 600_000);
  }
});

/**
 * Exhaustive mutations, beside the random ones above: every bit of every byte
 * flipped and every truncation, of ciphertexts (each symmetric type, derived
 * and convergent keys; decrypt and rewrap), signatures and HMACs. A mutated
 * ciphertext must be refused with 400, a mutated signature or HMAC must
 * verify false (or 400), and nothing may change in storage.
 */
describe("every bit flipped and every length truncated", () => {
  let mutations = 0;
  afterAll(() => {
    console.log(`FUZZ-RESULT suite=mutations cases=${mutations}`);
  });

  function* mutants(raw: Buffer): Generator<Buffer> {
    for (let i = 0; i < raw.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const m = Buffer.from(raw);
        m[i] = (m[i] ?? 0) ^ (1 << bit);
        yield m;
      }
    }
    for (let len = 0; len < raw.length; len++) yield raw.subarray(0, len);
  }

  const SYMMETRIC: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ["aes128-gcm96", { type: "aes128-gcm96" }, {}],
    ["aes256-gcm96", { type: "aes256-gcm96" }, {}],
    ["chacha20-poly1305", { type: "chacha20-poly1305" }, {}],
    ["aes256-gcm96 derived", { derived: true }, { context: b64("ctx") }],
    ["aes256-gcm96 convergent", { derived: true, convergent_encryption: true }, { context: b64("ctx") }],
    ["aes256-gcm-siv", { type: "aes256-gcm-siv" }, {}],
    [
      "aes256-gcm-siv convergent",
      { type: "aes256-gcm-siv", derived: true, convergent_encryption: true },
      { context: b64("ctx") },
    ],
  ];

  for (const [name, create, extra] of SYMMETRIC) {
    it(`${name}: decrypt and rewrap refuse every mutant with 400`, async () => {
      const e = new TestEngine();
      await e.write("keys/k", create);
      const ct = String(
        (await e.write("encrypt/k", { plaintext: b64("mutate me"), ...extra })).data["ciphertext"],
      );
      const raw = Buffer.from(ct.slice("vault:v1:".length), "base64");
      const before = e.snapshot();
      for (const m of mutants(raw)) {
        const mutated = `vault:v1:${m.toString("base64")}`;
        for (const path of ["decrypt/k", "rewrap/k"]) {
          mutations++;
          const out = await e.write(path, { ciphertext: mutated, ...extra });
          expect(out.status, `${path} ${mutated}`).toBe(400);
        }
      }
      expect(e.snapshot()).toEqual(before);
    });
  }

  for (const type of ["ed25519", "ecdsa-p256", "rsa-2048"]) {
    it(`${type}: every mutant signature verifies false`, async () => {
      const e = new TestEngine();
      await e.write("keys/s", { type });
      const input = b64("signed message");
      const sig = String((await e.write("sign/s", { input })).data["signature"]);
      const raw = Buffer.from(sig.slice("vault:v1:".length), "base64");
      // RSA signatures are long and ECDSA verification runs in JavaScript (@noble, ~2-10 ms):
      // for them every byte with one bit flipped, and every truncation, keeps the run short.
      const all =
        type !== "ed25519"
          ? [...mutants(raw)].filter((_, i) => i % 8 === 0 || i >= raw.length * 8)
          : mutants(raw);
      for (const m of all) {
        mutations++;
        const out = await e.write("verify/s", { input, signature: `vault:v1:${m.toString("base64")}` });
        expect(out.status === 400 || out.data["valid"] === false, `${type} ${out.status} ${out.error}`).toBe(
          true,
        );
        expect(out.status).toBeLessThan(500);
      }
    }, 120_000);
  }

  // Post-quantum signatures are kilobytes: one bit in every 64th byte, and every truncation.
  for (const create of [
    { type: "ml-dsa", parameter_set: "44" },
    { type: "hybrid", hybrid_key_type_pqc: "ml-dsa", hybrid_key_type_ec: "ecdsa-p256", parameter_set: "44" },
  ]) {
    it(`${create.type}: sampled mutant signatures verify false`, async () => {
      const e = new TestEngine();
      await e.write("keys/s", create);
      const input = b64("signed message");
      const sig = String((await e.write("sign/s", { input })).data["signature"]);
      const raw = Buffer.from(sig.slice("vault:v1:".length), "base64");
      const sampled = [...mutants(raw)].filter(
        (_, i) => (i < raw.length * 8 && i % 512 === 0) || (i >= raw.length * 8 && i % 97 === 0),
      );
      for (const m of sampled) {
        mutations++;
        const out = await e.write("verify/s", { input, signature: `vault:v1:${m.toString("base64")}` });
        expect(out.status === 400 || out.data["valid"] === false, `${out.status} ${out.error}`).toBe(true);
      }
    }, 120_000);
  }

  it("aes128-cmac: every mutant CMAC verifies false", async () => {
    const e = new TestEngine();
    await e.write("keys/c", { type: "aes128-cmac" });
    const input = b64("cmac'd message");
    const tag = String((await e.write("cmac/c", { input })).data["cmac"]);
    const raw = Buffer.from(tag.slice("vault:v1:".length), "base64");
    for (const m of mutants(raw)) {
      mutations++;
      const out = await e.write("verify/c", { input, cmac: `vault:v1:${m.toString("base64")}` });
      expect(out.status === 400 || out.data["valid"] === false, `${out.status} ${out.error}`).toBe(true);
      expect(out.status).toBeLessThan(500);
    }
  });

  it("hmac: every mutant HMAC verifies false", async () => {
    const e = new TestEngine();
    await e.write("keys/h", { type: "hmac" });
    const input = b64("mac'd message");
    const mac = String((await e.write("hmac/h", { input })).data["hmac"]);
    const raw = Buffer.from(mac.slice("vault:v1:".length), "base64");
    for (const m of mutants(raw)) {
      mutations++;
      const out = await e.write("verify/h", { input, hmac: `vault:v1:${m.toString("base64")}` });
      expect(out.status === 400 || out.data["valid"] === false, `${out.status} ${out.error}`).toBe(true);
    }
  });
});
