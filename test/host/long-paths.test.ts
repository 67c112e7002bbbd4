/**
 * Storage paths longer than LMDB's key limit (1978 bytes): Vault's storage
 * takes any path, so a 3 000-character transit key name must be created,
 * used, listed, deleted and kept across a restart. The store unit tests pin
 * the mapping (no collisions, LIST children and order with long and short
 * names mixed); the host tests run the real host and plugin over HTTP.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { open } from "lmdb";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { DB_FILE, EncryptedStore } from "../../src/host/storage/store.ts";
import { CANARY_PLAINTEXT } from "../helpers/canaries.ts";
import {
  killAllHosts,
  PLUGIN_READY,
  type RunningHost,
  removeDataDirs,
  startHost,
  trackedDataDir,
} from "./helpers/process-host.ts";

const enc = (s: string) => Buffer.from(s, "utf8");
const dec = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString("utf8"));
const b64 = (s: string) => Buffer.from(s).toString("base64");

const stores: EncryptedStore[] = [];

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  killAllHosts();
});

afterAll(removeDataDirs);

const dataDir = () => trackedDataDir("devhost-long-");

async function openStore(dir: string, key: Buffer): Promise<EncryptedStore> {
  const store = await EncryptedStore.open(dir, key);
  stores.push(store);
  return store;
}

describe("encrypted store: paths over the database's key limit", () => {
  it("stores, reads, lists and deletes a 3 000-character path beside short ones, in Vault's order", async () => {
    const store = await openStore(dataDir(), randomBytes(32));
    const view = store.view("logical/aaaa/");
    const long = `policy/${"k".repeat(3000)}`;
    const longB = `policy/b${"x".repeat(2500)}`;
    const short = ["policy/a", "policy/kk", "policy/z", "policy/k", "policy/deep/x"];
    await view.put({ key: long, value: enc("long") });
    await view.put({ key: longB, value: enc("longB") });
    for (const k of short) await view.put({ key: k, value: enc(k) });
    await store.view("logical/bbbb/").put({ key: long, value: enc("other mount") });

    expect(dec((await view.get(long))?.value ?? null)).toBe("long");
    expect(dec((await view.get(longB))?.value ?? null)).toBe("longB");
    const names = ["a", `b${"x".repeat(2500)}`, "deep/", "k", "kk", "k".repeat(3000), "z"];
    expect(await view.list("policy/")).toEqual(names);
    expect(await view.list("")).toEqual(["policy/"]);
    // A prefix longer than the kept prefix of a long key still finds exactly its children.
    expect(await view.list(`policy/${"k".repeat(2999)}`)).toEqual(["k"]);
    expect(await view.list(`policy/${"k".repeat(3001)}`)).toEqual([]);
    expect(await store.view("logical/bbbb/").list("policy/")).toEqual(["k".repeat(3000)]);

    await view.delete(long);
    expect(await view.get(long)).toBeNull();
    expect(await view.list("policy/")).toEqual(names.filter((n) => n !== "k".repeat(3000)));
    expect(dec((await store.view("logical/bbbb/").get(long))?.value ?? null)).toBe("other mount");
    expect(await store.deletePrefix("logical/aaaa/")).toBe(6);
    expect(await view.list("")).toEqual([]);
    expect((await store.verify()).damaged).toEqual([]);
  });

  it("keeps long paths sharing a 2 000-character prefix apart, with children below them, across a reopen", async () => {
    const dir = dataDir();
    const key = randomBytes(32);
    let store = await openStore(dir, key);
    const common = `logical/x/${"p".repeat(2000)}`;
    const paths = [`${common}a`, `${common}b`, `${common}a/child`, `${common}a/child/deeper`, `${common}`];
    for (const p of paths) await store.put(p, enc(p.slice(-12)));
    for (const p of paths) expect(dec(await store.get(p))).toBe(p.slice(-12));
    expect(await store.list(common)).toEqual(["", "a", "a/", "b"]);
    expect(await store.list(`${common}a/`)).toEqual(["child", "child/"]);
    await store.close();
    stores.length = 0;

    store = await openStore(dir, key);
    for (const p of paths) expect(dec(await store.get(p))).toBe(p.slice(-12));
    expect(await store.list(`${common}a/child/`)).toEqual(["deeper"]);
    await store.delete(`${common}a`);
    expect(await store.get(`${common}a`)).toBeNull();
    expect(dec(await store.get(`${common}a/child`))).toBe(paths[2]!.slice(-12));
    expect(await store.list(common)).toEqual(["", "a/", "b"]);
    expect(await store.verify()).toEqual({ checked: paths.length - 1, damaged: [] });
  });

  it("a long record moved under another long path's key is damage: not served, reported, never overwritten", async () => {
    const dir = dataDir();
    const key = randomBytes(32);
    let store = await openStore(dir, key);
    const a = `logical/x/${"a".repeat(2500)}`;
    const b = `logical/x/${"b".repeat(2500)}`;
    await store.put(a, enc("A"));
    await store.put(b, enc("B"));
    await store.close();
    stores.length = 0;

    const raw = open<Buffer, string>({ path: join(dir, DB_FILE), encoding: "binary" });
    const keys = [...raw.getKeys({ start: "logical/x/" })].filter((k) => typeof k === "string");
    const keyA = keys.find((k) => k.startsWith("logical/x/a"))!;
    const keyB = keys.find((k) => k.startsWith("logical/x/b"))!;
    expect(Buffer.byteLength(keyA)).toBe(1978);
    await raw.put(keyB, raw.get(keyA)!);
    await raw.close();

    store = await openStore(dir, key);
    expect(dec(await store.get(a))).toBe("A");
    expect(await store.get(b)).toBeNull();
    expect((await store.verify()).damaged).toEqual([keyB]);
    await expect(store.put(b, enc("B2"))).rejects.toThrow(/collides with another stored path/);
    expect(dec(await store.get(a))).toBe("A");
  });

  it("cuts long paths at a character boundary (multi-byte names)", async () => {
    const store = await openStore(dataDir(), randomBytes(32));
    for (const pad of ["", "a", "aa", "aaa"]) {
      const p = `logical/x/${pad}${"é€😀".repeat(400)}`;
      await store.put(p, enc(pad));
      expect(dec(await store.get(p))).toBe(pad);
    }
    expect((await store.list("logical/x/")).length).toBe(4);
  });
});

async function api(host: RunningHost, method: string, path: string, body?: unknown) {
  const res = await fetch(`${host.url}/v1/${path}`, {
    method,
    headers: { "X-Vault-Token": host.token, "Content-Type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  const parsed = text === "" ? null : (JSON.parse(text) as Record<string, unknown>);
  return { status: res.status, text, data: (parsed?.["data"] ?? {}) as Record<string, unknown> };
}

describe.skipIf(!PLUGIN_READY)("dev host: a 3 000-character transit key name", () => {
  it("is created, used, listed, kept across a restart and deleted", async () => {
    const dir = dataDir();
    const token = `hvs.long-${randomBytes(6).toString("hex")}`;
    const name = `n${"a".repeat(2998)}z`;
    const sibling = `n${"a".repeat(2998)}y`;
    let host = await startHost({ dataDir: dir, token });

    const created = await api(host, "POST", `transit/keys/${name}`);
    expect(created.status, created.text).toBe(200);
    expect(created.data["name"]).toBe(name);
    expect((await api(host, "POST", `transit/keys/${sibling}`)).status).toBe(200);
    expect((await api(host, "POST", "transit/keys/short")).status).toBe(200);

    const ct = await api(host, "POST", `transit/encrypt/${name}`, { plaintext: b64(CANARY_PLAINTEXT) });
    expect(ct.status, ct.text).toBe(200);
    const ciphertext = String(ct.data["ciphertext"]);
    const pt = await api(host, "POST", `transit/decrypt/${name}`, { ciphertext });
    expect(Buffer.from(String(pt.data["plaintext"]), "base64").toString()).toBe(CANARY_PLAINTEXT);
    // The sibling (same 2 999-character start) is another key: it cannot open this ciphertext.
    expect((await api(host, "POST", `transit/decrypt/${sibling}`, { ciphertext })).status).toBe(400);
    expect((await api(host, "POST", `transit/keys/${name}/rotate`)).status).toBe(200);

    const listed = await api(host, "LIST", "transit/keys");
    expect(listed.data["keys"]).toEqual([sibling, name, "short"]);

    await host.stop();
    host = await startHost({ dataDir: dir, token });
    const read = await api(host, "GET", `transit/keys/${name}`);
    expect(read.status, read.text).toBe(200);
    expect(read.data["latest_version"]).toBe(2);
    const again = await api(host, "POST", `transit/decrypt/${name}`, { ciphertext });
    expect(Buffer.from(String(again.data["plaintext"]), "base64").toString()).toBe(CANARY_PLAINTEXT);

    expect((await api(host, "POST", `transit/keys/${name}/config`, { deletion_allowed: true })).status).toBe(
      200,
    );
    expect((await api(host, "DELETE", `transit/keys/${name}`)).status).toBe(204);
    expect((await api(host, "GET", `transit/keys/${name}`)).status).toBe(404);
    expect((await api(host, "LIST", "transit/keys")).data["keys"]).toEqual([sibling, "short"]);
    await host.stop();
  }, 120_000);
});
