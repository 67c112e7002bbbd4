/**
 * Storage over the broker is the engine's only storage: the host's Storage
 * failures and changes behind the plugin's back (InvalidateKey) as Vault
 * produces them (performance standbys, replication).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CANARY_PLAINTEXT_2 } from "../helpers/canaries.ts";
import {
  type Clients,
  type HostBroker,
  MapStorage,
  Mount,
  responseData,
  type Started,
  startMounted,
  unary,
} from "./helpers/host.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("storage through the broker", () => {
  let p: Started;
  let clients: Clients;
  let broker: HostBroker;
  let a: Mount;

  beforeAll(async () => {
    ({ p, clients, broker, mount: a } = await startMounted());
  });

  afterAll(async () => {
    if (p?.child.exitCode === null) {
      await unary(clients.controller, "shutdown", {}).catch(() => {});
      await p.exited;
    }
    broker?.close();
    clients?.close();
  });

  it("a Storage.Put error from the host is a 500-class error and leaves the cached keyring unchanged", async () => {
    expect((await a.request("update", "keys/k", {})).err).toBeUndefined();
    const stored = Buffer.from(a.storage.entries.get("policy/k")!);
    expect(responseData(await a.request("read", "keys/k"))["latest_version"]).toBe(1);

    a.storage.failPut = "backend put failed: disk full";
    const rotated = await a.request("update", "keys/k/rotate");
    expect(rotated.err?.errType).toBe(2); // internal error: Vault answers 500
    expect(rotated.err?.errMsg).toContain("disk full");
    expect(a.storage.entries.get("policy/k")).toEqual(stored);

    // The cached keyring did not move to version 2: reads and encryption still see version 1.
    expect(responseData(await a.request("read", "keys/k"))["latest_version"]).toBe(1);
    const enc = await a.request("update", "encrypt/k", { plaintext: b64(CANARY_PLAINTEXT_2) });
    expect(responseData(enc)["ciphertext"]).toMatch(/^vault:v1:/);

    // A failed create stores nothing and caches nothing.
    const created = await a.request("update", "keys/never", {});
    expect(created.err?.errType).toBe(2);
    a.storage.failPut = null;
    expect((await a.request("read", "keys/never")).response).toBeUndefined();

    // Once the host stores again, the next request works from the stored truth.
    expect((await a.request("update", "keys/k/rotate")).err).toBeUndefined();
    expect(responseData(await a.request("read", "keys/k"))["latest_version"]).toBe(2);
  });

  it("InvalidateKey after the host changed a stored keyring makes the next request use the new one", async () => {
    // Mount b has its own key "shared"; mount a creates one with the same name (different material).
    const b = new Mount(clients, new MapStorage(), "mount-b");
    const { id } = await broker.serve(b.storage);
    await b.call("setup", { brokerId: id, Config: {}, backendUUID: "u-b" });
    await b.call("initialize", {});
    expect((await b.request("update", "keys/shared", {})).err).toBeUndefined();
    expect((await b.request("update", "keys/shared/rotate")).err).toBeUndefined();
    expect((await a.request("update", "keys/shared", {})).err).toBeUndefined();
    const fromA = responseData(await a.request("update", "encrypt/shared", { plaintext: b64("x") }));

    // The host replaces a's stored keyring with b's (as replication would).
    for (const [k, v] of b.storage.entries) {
      if (k.endsWith("/shared") || k === "policy/shared") a.storage.entries.set(k, Buffer.from(v));
    }

    // Without an invalidation a still serves its cached keyring (version 1, its own material).
    expect(responseData(await a.request("read", "keys/shared"))["latest_version"]).toBe(1);
    const before = await b.request("update", "decrypt/shared", { ciphertext: fromA["ciphertext"] });
    expect(before.err !== undefined || responseData(before)["error"] !== undefined).toBe(true);

    await a.call("invalidateKey", { key: "policy/shared" });

    expect(responseData(await a.request("read", "keys/shared"))["latest_version"]).toBe(2);
    const enc = responseData(
      await a.request("update", "encrypt/shared", { plaintext: b64(CANARY_PLAINTEXT_2) }),
    );
    expect(enc["ciphertext"]).toMatch(/^vault:v2:/);
    const dec = await b.request("update", "decrypt/shared", { ciphertext: enc["ciphertext"] });
    expect(Buffer.from(responseData(dec)["plaintext"] as string, "base64").toString()).toBe(
      CANARY_PLAINTEXT_2,
    );
    await b.call("cleanup", {});
  });

  it("nothing secret reaches the plugin's log", () => {
    expect(p.stderr()).not.toContain(CANARY_PLAINTEXT_2);
    expect(p.stderr()).not.toContain(b64(CANARY_PLAINTEXT_2));
  });
});
