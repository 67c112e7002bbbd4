/**
 * Key material's lifetime and comparisons.
 *
 * 1. Key buffers leave every cache on delete and trim: after the operation and
 *    a forced garbage collection, weak references to the dropped versions' key
 *    buffers (symmetric keys, HMAC keys, PKCS#8 private keys, Ed25519 keys) are
 *    empty, so nothing (keyring cache, memoised KeyObjects, derived-key caches)
 *    still holds them. JavaScript cannot wipe them; unreachable is what it can
 *    promise (see SECURITY.md).
 * 2. Comparisons of MACs, tags, tokens and signatures are constant time: a
 *    source audit that fails on a new `===`/`.equals`/`Buffer.compare` over
 *    such values outside the reviewed list.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { buildTransitBackend } from "../../src/transit/backend.ts";
import { TransitState } from "../../src/transit/state.ts";
import { nullLogger } from "../../src/util/logger.ts";
import { b64, TestEngine } from "../helpers/engine.ts";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

async function collect(): Promise<void> {
  for (let i = 0; i < 6; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
}

/** Weak references to every key buffer of the cached keyring, by version. */
async function keyBuffers(
  t: TransitState,
  e: TestEngine,
  name: string,
): Promise<Map<number, WeakRef<Uint8Array>[]>> {
  const ring = await t.keyrings.get(e.storage, name);
  const out = new Map<number, WeakRef<Uint8Array>[]>();
  for (const [v, entry] of ring?.versions ?? []) {
    const bufs = [entry.key, entry.hmacKey, entry.privateKey].filter((b): b is Uint8Array => b !== undefined);
    out.set(
      v,
      bufs.map((b) => new WeakRef(b)),
    );
  }
  return out;
}

const alive = (refs: WeakRef<Uint8Array>[] | undefined) =>
  (refs ?? []).filter((r) => r.deref() !== undefined).length;

describe("key buffers leave the caches", () => {
  for (const type of ["aes256-gcm96", "chacha20-poly1305", "hmac", "ecdsa-p256", "ed25519"]) {
    it(`${type}: trimmed versions' buffers become unreachable, kept ones stay; delete drops the rest`, async () => {
      const t = new TransitState(nullLogger);
      const e = new TestEngine(buildTransitBackend(t));
      await e.write("keys/k", { type });
      for (let i = 0; i < 3; i++) await e.write("keys/k/rotate");
      // Use every version, so that memoised KeyObjects and per-version caches exist.
      for (let v = 1; v <= 4; v++) {
        if (type === "hmac") await e.write("hmac/k", { input: b64("x"), key_version: v });
        else if (type.startsWith("ecdsa") || type === "ed25519")
          await e.write("sign/k", { input: b64("x"), key_version: v });
        else await e.write("encrypt/k", { plaintext: b64("x"), key_version: v });
        await e.write("hmac/k", { input: b64("y"), key_version: v });
      }
      const refs = await keyBuffers(t, e, "k");
      expect(refs.size).toBe(4);
      await e.write("keys/k/config", { min_decryption_version: 3, min_encryption_version: 3 });
      const trim = await e.write("keys/k/trim", { min_available_version: 3 });
      expect(trim.status).toBe(200);
      await collect();
      expect(alive(refs.get(1))).toBe(0);
      expect(alive(refs.get(2))).toBe(0);
      expect(alive(refs.get(3))).toBeGreaterThan(0);
      expect(alive(refs.get(4))).toBeGreaterThan(0);

      await e.write("keys/k/config", { deletion_allowed: true });
      expect((await e.request("delete", "keys/k")).status).toBe(204);
      expect(t.keyrings.cachedCount).toBe(0);
      await collect();
      for (const v of [3, 4]) expect(alive(refs.get(v)), `v${v} after delete`).toBe(0);
    });
  }

  it("a smaller cache (cache-config) evicts keyrings and their buffers", async () => {
    const t = new TransitState(nullLogger);
    const e = new TestEngine(buildTransitBackend(t));
    const refs: WeakRef<Uint8Array>[][] = [];
    for (let i = 0; i < 30; i++) {
      await e.write(`keys/k${i}`);
      await e.write(`encrypt/k${i}`, { plaintext: b64("x") });
      refs.push([...(await keyBuffers(t, e, `k${i}`)).values()].flat());
    }
    expect(t.keyrings.cachedCount).toBe(30);
    t.keyrings.setCacheSize(10);
    await collect();
    expect(t.keyrings.cachedCount).toBe(10);
    // The 20 least recently used are gone from memory, the 10 most recent stay.
    expect(refs.slice(0, 20).every((r) => alive(r) === 0)).toBe(true);
    expect(refs.slice(20).every((r) => alive(r) > 0)).toBe(true);
  });
});

// ---------------------------------------------------------------------------

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return f === "gen" ? [] : sources(p);
    return p.endsWith(".ts") ? [p] : [];
  });
}

/**
 * Reviewed comparisons that look like secret comparisons but compare public
 * values (public keys, curve points, certificates) or lengths: file and the
 * compared expression.
 */
const REVIEWED: [string, RegExp, string][] = [
  ["src/transit/keyring/import.ts", /existing\.equals\(publicOfParsed\)/, "public keys"],
  ["src/crypto/key-rebuild.ts", /Buffer\.from\(point\)\.equals\(expected\)/, "a public curve point"],
  ["src/transit/keyring/backup-entry.ts", /pub\.equals\(key\.subarray\(32\)\)/, "an Ed25519 public key"],
  ["src/host/storage/store.ts", /key === KEYRING_PATH/, "a storage path"],
];

const SECRETISH = /(mac|tag|token|signature|digest|cookie|secret|hash|key|expected|actual|computed)/i;
/** Names of public or structural values (types, lengths, public keys, DER structure). */
const PUBLIC = /type|kind|name|algorithm|format|mode|version|size|pub|point|cert|oid|der/i;

/** Comparisons in one source line that may stop at the first differing byte of a secret. */
function suspicious(line: string): string[] {
  const code = line.replace(/\/\/.*$/, "");
  const hits: string[] = [];
  // Byte-array comparisons that stop at the first difference, over secret-named values.
  for (const m of code.matchAll(/([\w.()[\]]+)\.equals\(([^)]*\)?)\)|Buffer\.compare\(([^)]*)\)/g)) {
    if (SECRETISH.test(m[0]) && !PUBLIC.test(m[0])) hits.push(m[0]);
  }
  // String or number equality between two secret-named values (hex/base64 MACs, tokens).
  for (const m of code.matchAll(/\b([A-Za-z_][\w.]*)\s*[!=]==\s*([A-Za-z_][\w.]*)\b/g)) {
    const [a, b] = [m[1] ?? "", m[2] ?? ""];
    if ([a, b].some((x) => /length$|\.size$|^(undefined|null|true|false)$|(^|\.)[A-Z][A-Z0-9_]+$/.test(x)))
      continue;
    if (SECRETISH.test(a) && SECRETISH.test(b) && !PUBLIC.test(a + b)) hits.push(m[0]);
  }
  return hits;
}

describe("constant-time comparisons", () => {
  it("no MAC, tag, token, signature or digest is compared with ===, .equals or Buffer.compare", () => {
    const findings: string[] = [];
    let files = 0;
    for (const file of sources(join(ROOT, "src"))) {
      files++;
      const rel = relative(ROOT, file);
      const lines = readFileSync(file, "utf8").split("\n");
      lines.forEach((line, i) => {
        const hits = suspicious(line);
        for (const hit of hits) {
          if (REVIEWED.some(([f, re]) => f === rel && re.test(hit))) continue;
          findings.push(`${rel}:${i + 1}: ${hit}`);
        }
      });
    }
    expect(findings).toEqual([]);
    expect(files).toBeGreaterThan(50);
  });

  it("the audit itself flags early-exit comparisons of secrets and passes public ones", () => {
    expect(suspicious("if (macHex === expectedMac) return true;")).toHaveLength(1);
    expect(suspicious("return tag.equals(expectedTag);")).toHaveLength(1);
    expect(suspicious("if (Buffer.compare(token, secret) === 0) ok();")).toHaveLength(1);
    expect(suspicious("if (tlv.tag !== TAG.SEQUENCE) throw x;")).toEqual([]);
    expect(suspicious("if (hmac.length !== expected.length) return false;")).toEqual([]);
    expect(suspicious("if (!pub.equals(publicKey)) throw x;")).toEqual([]);
  });

  it("the constant-time primitives are the ones used for MACs, tokens and signatures", () => {
    const read = (f: string) => readFileSync(join(ROOT, f), "utf8");
    // One constant-time comparison (src/crypto/hash.ts), and every MAC, token and signature
    // check calls it (or node's timingSafeEqual directly, in src/crypto).
    expect(read("src/crypto/hash.ts")).toMatch(/return timingSafeEqual\(a, b\)/);
    expect(read("src/transit/paths/hmac-ops.ts")).toMatch(/constantTimeEqual\(actual, expected\)/);
    expect(read("src/host/token.ts")).toMatch(/constantTimeEqual\(sha256\(candidate\), this\.hash\)/);
    const sign = read("src/crypto/sign.ts");
    expect(sign).toMatch(/return constantTimeEqual\(h, pssHash\(/);
    expect(sign).toMatch(/return constantTimeEqual\(t, Buffer\.concat\(\[DIGEST_INFO\[hash\], hashed\]\)\)/);
    expect(read("src/crypto/cmac.ts")).toMatch(/timingSafeEqual\(expected, tag\)/);
  });
});
