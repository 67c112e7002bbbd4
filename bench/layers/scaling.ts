import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { loadProjectModule } from "../lib/bundle.ts";
import type { RunContext } from "../lib/context.ts";
import type { TaskDef } from "../lib/measure.ts";
import { formatSize } from "../lib/stats.ts";
import type { Measurement } from "../lib/types.ts";
import { b64, type Engine, type EngineBackend, loadEngine } from "./engine-setup.ts";

type StorageLike = {
  get(key: string): Promise<{ key: string; value: Uint8Array } | null>;
  put(e: { key: string; value: Uint8Array }): Promise<void>;
};

type Internals = {
  decodeKeyring(name: string, bytes: Uint8Array): unknown;
  encodeKeyring(ring: unknown): Uint8Array;
  generateKeyVersion(ring: unknown): Promise<unknown>;
  withVersion(ring: unknown, entry: unknown, imported: boolean): unknown;
};

/**
 * Gives key `name` `versions` versions. Rotating through the API re-encodes
 * the whole keyring each time (10 000 rotations take over a minute), so the
 * versions are added to one decoded keyring with the engine's own keyring
 * functions and stored once; if those internals have moved, the API is used.
 */
async function addVersions(ctx: RunContext, engine: Engine, name: string, versions: number): Promise<string> {
  const { root, tmp } = ctx.options;
  const entryFile = path.join(tmp, "scaling-internals.mjs");
  writeFileSync(
    entryFile,
    [
      `export { decodeKeyring, encodeKeyring } from ${JSON.stringify(path.join(root, "src/transit/keyring/codec.ts"))};`,
      `export { generateKeyVersion } from ${JSON.stringify(path.join(root, "src/transit/keyring/material.ts"))};`,
      `export { withVersion } from ${JSON.stringify(path.join(root, "src/transit/keyring/operations.ts"))};`,
    ].join("\n"),
  );
  const storage = engine.storage as StorageLike;
  try {
    const m = await loadProjectModule<Partial<Internals>>(root, entryFile, tmp);
    if (
      m === null ||
      m.decodeKeyring === undefined ||
      m.encodeKeyring === undefined ||
      m.generateKeyVersion === undefined ||
      m.withVersion === undefined
    )
      throw new Error("keyring internals not found");
    const entry = await storage.get(`policy/${name}`);
    if (entry === null) throw new Error(`policy/${name} missing`);
    const ring = m.decodeKeyring(name, entry.value) as { latestVersion: number };
    while (ring.latestVersion < versions) m.withVersion(ring, await m.generateKeyVersion(ring), false);
    await storage.put({ key: `policy/${name}`, value: m.encodeKeyring(ring) });
    return "keyring built with the engine's keyring functions, stored once";
  } catch (e) {
    ctx.progress.line(`versions through the API (${(e as Error).message})`);
    for (let v = 1; v < versions; v++) await engine.write(`keys/${name}/rotate`, {});
    return "rotated through the API";
  }
}

// Batch size: per-item rate of encrypt, 64 B items.
async function byBatchSize({ ctx, engine, call, pt64, quick }: Sweep): Promise<void> {
  const group = "encrypt by batch size (64 B items)";
  const batches = quick ? [1, 100] : [1, 10, 100, 1000];
  const tasks: TaskDef[] = batches.map((n) => ({
    key: String(n),
    label: `${group} ×${n}`,
    fn:
      n === 1
        ? call(engine.backend, "encrypt/s", { plaintext: pt64 })
        : call(engine.backend, "encrypt/s", {
            batch_input: Array.from({ length: n }, () => ({ plaintext: pt64 })),
          }),
  }));
  const t = await ctx.measure(tasks);
  for (const n of batches) {
    const x = t.get(String(n));
    if (x !== undefined)
      ctx.recordTiming(x, { group, impl: "engine", op: "encrypt", size: 64, batch: n, concurrency: 1 });
  }
}

// Message size: bytes/s of a single encrypt.
async function byMessageSize({ ctx, engine, call, quick }: Sweep): Promise<void> {
  const group = "encrypt by message size";
  const sizes = quick ? [64, 16 * 1024] : [64, 1024, 16 * 1024, 256 * 1024, 1024 * 1024];
  const tasks: TaskDef[] = sizes.map((n) => ({
    key: String(n),
    label: `${group} ${formatSize(n)}`,
    fn: call(engine.backend, "encrypt/s", { plaintext: b64(randomBytes(n)) }),
  }));
  const t = await ctx.measure(tasks);
  for (const n of sizes) {
    const x = t.get(String(n));
    if (x !== undefined)
      ctx.recordTiming(x, { group, impl: "engine", op: "encrypt", size: n, batch: 1, concurrency: 1 });
  }
}

// Key versions: encrypt with the latest, decrypt a version-1 ciphertext.
async function byKeyVersions({ ctx, engine, call, pt64, quick }: Sweep): Promise<void> {
  const counts = quick ? [1, 100] : [1, 100, 10_000];
  const made: { n: number; ct: string }[] = [];
  let how = "";
  for (const n of counts) {
    const name = `v${n}`;
    await engine.write(`keys/${name}`, { type: "aes256-gcm96" });
    const ct = String((await engine.write(`encrypt/${name}`, { plaintext: pt64 }))["ciphertext"]);
    ctx.progress.status(`scaling: ${n} versions`);
    if (n > 1) how = await addVersions(ctx, engine, name, n);
    made.push({ n, ct });
  }
  // A fresh engine reads the keyrings as stored (the first engine cached version 1 only).
  const fresh = engine.fresh();
  for (const { n } of made) {
    const r = await fresh.handleRequest({
      operation: "update",
      path: `encrypt/v${n}`,
      data: { plaintext: pt64 },
      storage: engine.storage,
    });
    if (r?.data?.["key_version"] !== n)
      throw new Error(`key v${n}: encrypt used version ${String(r?.data?.["key_version"])}`);
  }
  for (const op of ["encrypt", "decrypt"] as const) {
    const group = `${op} by number of key versions`;
    const tasks: TaskDef[] = made.map(({ n, ct }) => ({
      key: String(n),
      label: `${group} ${n}`,
      fn: call(fresh, `${op}/v${n}`, op === "encrypt" ? { plaintext: pt64 } : { ciphertext: ct }),
    }));
    const t = await ctx.measure(tasks);
    const rec = new Map<number, Measurement>();
    for (const { n } of made) {
      const x = t.get(String(n));
      if (x !== undefined)
        rec.set(
          n,
          ctx.recordTiming(x, {
            group,
            impl: `${n} version${n > 1 ? "s" : ""}`,
            op,
            size: 64,
            batch: 1,
            concurrency: 1,
            ...(n === 1 ? { limit: true } : {}),
            note: how,
          }),
        );
    }
    const top = counts[counts.length - 1] ?? 1;
    ctx.ratio({
      id: `flat-versions|${op}|${top}`,
      description: `${op} 64 B with ${top} key versions / with 1`,
      numerator: rec.get(top),
      denominator: rec.get(1),
      basis: "opsPerSec",
      note: "wall time: other jobs on the shared machine move it by more than the 15 % the target allows; the target is on the CPU-time ratio",
    });
    ctx.ratio({
      id: `flat-versions-cpu|${op}|${top}`,
      description: `${op} 64 B with ${top} key versions / with 1, in CPU time`,
      numerator: rec.get(top),
      denominator: rec.get(1),
      basis: "cpuItems",
      target: op === "encrypt" ? 0.85 : null,
      note: "the issue's target is about cost growing with versions: CPU time of the process, which other jobs barely move; 0.85 allows for noise",
    });
  }
}

// Number of keys: 1 key, N keys all cached, N keys through a cache of 10 (every request misses).
async function byKeyCount({ ctx, engine, call, pt64, quick }: Sweep): Promise<void> {
  const n = quick ? 200 : 10_000;
  for (let i = 0; i < n; i++) await engine.write(`keys/m${i}`, { type: "aes256-gcm96" });
  const cached = engine.fresh();
  let i = 0;
  const many = () => {
    i = (i + 1) % n;
    return cached.handleRequest({
      operation: "update",
      path: `encrypt/m${i}`,
      data: { plaintext: pt64 },
      storage: engine.storage,
    });
  };
  for (let k = 0; k < n; k++) await many(); // fill the cache
  const uncached = engine.fresh();
  await uncached.handleRequest({
    operation: "update",
    path: "cache-config",
    data: { size: 10 },
    storage: engine.storage,
  });
  let j = 0;
  const missing = () => {
    j = (j + 1) % n;
    return uncached.handleRequest({
      operation: "update",
      path: `encrypt/m${j}`,
      data: { plaintext: pt64 },
      storage: engine.storage,
    });
  };
  const group = "encrypt by number of keys";
  const t = await ctx.measure([
    { key: "one", label: `${group} 1`, fn: call(cached, "encrypt/m0", { plaintext: pt64 }) },
    { key: "cached", label: `${group} ${n} cached`, fn: many },
    { key: "uncached", label: `${group} ${n} uncached`, fn: missing },
  ]);
  const one = t.get("one");
  const c = t.get("cached");
  const u = t.get("uncached");
  const base = { group, op: "encrypt", size: 64, batch: 1, concurrency: 1 };
  const m1 = one && ctx.recordTiming(one, { ...base, impl: "1 key", limit: true });
  const mc = c && ctx.recordTiming(c, { ...base, impl: `${n} keys, all cached` });
  const mu =
    u &&
    ctx.recordTiming(u, {
      ...base,
      impl: `${n} keys, cache of 10 (every request reads storage)`,
      reference: true,
    });
  ctx.ratio({
    id: `flat-keys|cached|${n}`,
    description: `encrypt 64 B across ${n} cached keys / one key`,
    numerator: mc,
    denominator: m1,
    basis: "opsPerSec",
    note: "wall time: other jobs on the shared machine move it by more than the 15 % the target allows; the target is on the CPU-time ratio",
  });
  ctx.ratio({
    id: `flat-keys-cpu|cached|${n}`,
    description: `encrypt 64 B across ${n} cached keys / one key, in CPU time`,
    numerator: mc,
    denominator: m1,
    basis: "cpuItems",
    target: 0.85,
    note: "the issue's target is about cost growing with keys: CPU time of the process; 0.85 allows for noise",
  });
  ctx.ratio({
    id: `uncached|${n}`,
    description: `encrypt 64 B across ${n} keys with a cache of 10 (storage read + decode) / one cached key`,
    numerator: mu,
    denominator: m1,
    basis: "opsPerSec",
  });
}

/** What every sweep gets: the run, one engine with key "s", a request maker and a 64 B plaintext. */
interface Sweep {
  ctx: RunContext;
  engine: Awaited<ReturnType<typeof loadEngine>>;
  call: (backend: EngineBackend, p: string, data: Record<string, unknown>) => () => Promise<unknown>;
  pt64: string;
  quick: boolean;
}

/** The sweeps of the layer, run in this order by one loop. */
const SWEEPS: readonly ((s: Sweep) => Promise<void>)[] = [
  byBatchSize,
  byMessageSize,
  byKeyVersions,
  byKeyCount,
];

/**
 * Layer 6: how the cost of encrypt grows with batch size, message size, the
 * number of key versions and the number of keys (cached and not).
 */
export async function runScaling(ctx: RunContext): Promise<void> {
  const engine = await loadEngine(ctx.options.root, ctx.options.tmp);
  const call: Sweep["call"] = (backend, p, data) => () =>
    backend.handleRequest({ operation: "update", path: p, data, storage: engine.storage });
  await engine.write("keys/s", { type: "aes256-gcm96" });
  const sweep: Sweep = { ctx, engine, call, pt64: b64(randomBytes(64)), quick: ctx.options.quick };
  for (const run of SWEEPS) await run(sweep);
}
