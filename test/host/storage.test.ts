import { createHash, randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open } from "lmdb";
import { afterEach, describe, expect, it } from "vitest";
import { aeadOpen, aeadSeal, Barrier, BarrierError, Keyring } from "../../src/host/storage/barrier.ts";
import { DB_FILE, EncryptedStore, SealError, storeExists } from "../../src/host/storage/store.ts";
import { loadUnsealKey, UnsealKeyError } from "../../src/host/storage/unseal-key.ts";
import { CANARY_KEY, CANARY_PLAINTEXT } from "../helpers/canaries.ts";

const dirs: string[] = [];
const stores: EncryptedStore[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "devhost-store-"));
  dirs.push(dir);
  return dir;
}

async function openStore(dir: string, key: Buffer): Promise<EncryptedStore> {
  const store = await EncryptedStore.open(dir, key);
  stores.push(store);
  return store;
}

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

describe("barrier", () => {
  it("seals with the path as associated data: a value moved to another path does not open", () => {
    const barrier = new Barrier(Keyring.generate());
    const sealed = barrier.encrypt("logical/a/policy/k1", enc("secret"));
    expect(dec(barrier.decrypt("logical/a/policy/k1", sealed))).toBe("secret");
    expect(() => barrier.decrypt("logical/a/policy/k2", sealed)).toThrow(BarrierError);
    expect(() => barrier.decrypt("logical/b/policy/k1", sealed)).toThrow(BarrierError);
  });

  it("detects any flipped bit", () => {
    const barrier = new Barrier(Keyring.generate());
    const sealed = barrier.encrypt("p", enc("value"));
    for (let i = 5; i < sealed.length; i++) {
      const bad = Buffer.from(sealed);
      bad[i] = bad[i]! ^ 1;
      expect(() => barrier.decrypt("p", bad)).toThrow(BarrierError);
    }
  });

  it("rotation adds a term; values of older terms still open", () => {
    const k1 = Keyring.generate();
    const old = new Barrier(k1).encrypt("p", enc("one"));
    const k2 = k1.rotate();
    const b2 = new Barrier(k2);
    const fresh = b2.encrypt("p", enc("two"));
    expect(Barrier.termOf(old)).toBe(1);
    expect(Barrier.termOf(fresh)).toBe(2);
    expect(dec(b2.decrypt("p", old))).toBe("one");
    expect(dec(b2.decrypt("p", fresh))).toBe("two");
    expect(() => new Barrier(k1).decrypt("p", fresh)).toThrow(/no barrier key for term 2/);
    expect(Keyring.decode(k2.encode()).terms).toEqual([1, 2]);
  });

  it("AES-256-GCM open fails with a wrong key", () => {
    const sealed = aeadSeal(randomBytes(32), enc("x"), enc("aad"));
    expect(() => aeadOpen(randomBytes(32), sealed, enc("aad"))).toThrow(BarrierError);
  });
});

describe("encrypted store", () => {
  it("implements Vault's storage semantics per mount view", async () => {
    const store = await openStore(tempDir(), randomBytes(32));
    const a = store.view("logical/aaaa/");
    const b = store.view("logical/bbbb/");
    await a.put({ key: "policy/k1", value: enc("1") });
    await a.put({ key: "policy/k2", value: enc("2") });
    await a.put({ key: "policy/deep/k3", value: enc("3") });
    await a.put({ key: "archive/k1", value: enc("4") });
    await a.put({ key: "top", value: enc("5") });
    await b.put({ key: "policy/other", value: enc("6") });

    expect(await a.list("")).toEqual(["archive/", "policy/", "top"]);
    expect(await a.list("policy/")).toEqual(["deep/", "k1", "k2"]);
    expect(await b.list("policy/")).toEqual(["other"]);
    expect(await a.list("nothing/")).toEqual([]);
    expect(dec((await a.get("policy/k1"))?.value ?? null)).toBe("1");
    expect(await b.get("policy/k1")).toBeNull();
    await a.delete("policy/k1");
    expect(await a.get("policy/k1")).toBeNull();
    await a.delete("policy/absent");
    expect(await store.deletePrefix("logical/aaaa/")).toBe(4);
    expect(await a.list("")).toEqual([]);
    expect(await b.list("")).toEqual(["policy/"]);
  });

  it("keeps data and keyring terms across a reopen; old terms stay readable after rotation", async () => {
    const dir = tempDir();
    const key = randomBytes(32);
    let store = await openStore(dir, key);
    await store.put("logical/x/before", enc("before"));
    expect(store.termOf("logical/x/before")).toBe(1);
    const status = await store.rotate();
    expect(status.term).toBe(2);
    await store.put("logical/x/after", enc("after"));
    expect(store.termOf("logical/x/after")).toBe(2);
    await store.close();

    store = await openStore(dir, key);
    expect(store.terms).toEqual([1, 2]);
    expect(store.keyStatus().term).toBe(2);
    expect(dec(await store.get("logical/x/before"))).toBe("before");
    expect(dec(await store.get("logical/x/after"))).toBe("after");
  });

  it("refuses a wrong unseal key and changes nothing on disk", async () => {
    const dir = tempDir();
    const store = await openStore(dir, randomBytes(32));
    await store.put("logical/x/k", enc("v"));
    await store.close();
    const before = createHash("sha256")
      .update(readFileSync(join(dir, DB_FILE)))
      .digest("hex");
    await expect(EncryptedStore.open(dir, randomBytes(32))).rejects.toThrow(SealError);
    await expect(EncryptedStore.open(dir, randomBytes(32))).rejects.toThrow(/wrong key/);
    const after = createHash("sha256")
      .update(readFileSync(join(dir, DB_FILE)))
      .digest("hex");
    expect(after).toBe(before);
  });

  it("a value copied to another path in the raw database does not open", async () => {
    const dir = tempDir();
    const key = randomBytes(32);
    let store = await openStore(dir, key);
    await store.put("logical/x/policy/a", enc("key-a"));
    await store.put("logical/x/policy/b", enc("key-b"));
    await store.close();
    stores.length = 0;

    const raw = open<Buffer, string>({ path: join(dir, DB_FILE), encoding: "binary" });
    await raw.put("logical/x/policy/b", raw.get("logical/x/policy/a")!);
    await raw.close();

    store = await openStore(dir, key);
    expect(dec(await store.get("logical/x/policy/a"))).toBe("key-a");
    await expect(store.get("logical/x/policy/b")).rejects.toThrow(BarrierError);
  });

  it("writes no plaintext, key bytes or barrier keys in the clear", async () => {
    const dir = tempDir();
    const unseal = randomBytes(32);
    const store = await openStore(dir, unseal);
    await store.put(
      "logical/x/secret",
      Buffer.concat([Buffer.from(CANARY_PLAINTEXT), Buffer.from(CANARY_KEY)]),
    );
    await store.rotate();
    await store.put("logical/x/secret2", Buffer.from(CANARY_PLAINTEXT));
    await store.close();
    stores.length = 0;
    const file = readFileSync(join(dir, DB_FILE));
    expect(file.includes(Buffer.from(CANARY_PLAINTEXT))).toBe(false);
    expect(file.includes(Buffer.from(CANARY_KEY))).toBe(false);
    expect(file.includes(unseal)).toBe(false);
    expect(file.includes(Buffer.from("logical/x/secret"))).toBe(true); // paths are visible, as in Vault
  });
});

describe("unseal key", () => {
  const envName = "TRANSIT_DEV_UNSEAL_KEY";

  it("is generated on first start into a 0600 file and read back after", () => {
    const dir = tempDir();
    const file = join(dir, "unseal.key");
    const first = loadUnsealKey({ file, storeExists: false, envName });
    expect(first.origin).toBe("generated");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const second = loadUnsealKey({ file, storeExists: true, envName });
    expect(second.origin).toBe("file");
    expect(second.key.equals(first.key)).toBe(true);
  });

  it("comes from the environment when set", () => {
    const dir = tempDir();
    const key = randomBytes(32);
    const got = loadUnsealKey({
      file: join(dir, "k"),
      fromEnv: key.toString("base64"),
      storeExists: true,
      envName,
    });
    expect(got.origin).toBe("environment");
    expect(got.key.equals(key)).toBe(true);
    expect(() => loadUnsealKey({ file: join(dir, "k"), fromEnv: "abc", storeExists: true, envName })).toThrow(
      /32 bytes/,
    );
  });

  it("is never invented for an existing store", () => {
    const dir = tempDir();
    expect(() => loadUnsealKey({ file: join(dir, "unseal.key"), storeExists: true, envName })).toThrow(
      UnsealKeyError,
    );
    expect(() => loadUnsealKey({ file: join(dir, "unseal.key"), storeExists: true, envName })).toThrow(
      /will not create a new key/,
    );
  });

  it("refuses a key file readable by others", () => {
    const dir = tempDir();
    const file = join(dir, "unseal.key");
    writeFileSync(file, `${randomBytes(32).toString("base64")}\n`);
    chmodSync(file, 0o644);
    expect(() => loadUnsealKey({ file, storeExists: true, envName })).toThrow(/chmod 600/);
  });

  it("storeExists sees only an initialized database file", async () => {
    const dir = tempDir();
    expect(storeExists(dir)).toBe(false);
    await openStore(dir, randomBytes(32));
    expect(storeExists(dir)).toBe(true);
  });
});
