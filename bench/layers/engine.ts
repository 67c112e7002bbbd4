import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  generateKeyPairSync,
  randomBytes,
  sign,
} from "node:crypto";
import { loadProjectModule } from "../lib/bundle.ts";
import type { RunContext } from "../lib/context.ts";
import type { TaskDef } from "../lib/measure.ts";
import { formatSize } from "../lib/stats.ts";
import { type AeadInstance, loadProjectAead, NONCE, TAG } from "./aead-impls.ts";
import { b64, type Engine, loadEngine } from "./engine-setup.ts";

const SIZES = [64, 4096];
const BATCH_ITEM = 64;

interface Case {
  op: string;
  size: number;
  batch: number;
  /** Engine calls are async; the bare primitives are plain synchronous calls, as they would be on the hot path. */
  fn: () => unknown;
}

/**
 * The bare primitive behind each engine operation, on the same data: the
 * AEAD the engine uses (src/crypto/aead.ts when present) with a fresh random
 * nonce, ed25519 signing, HMAC-SHA256. The engine's overhead is the ratio.
 */
async function barePrimitives(
  ctx: RunContext,
): Promise<{ seal: (pt: Uint8Array) => unknown; open: (s: Uint8Array) => unknown; name: string }> {
  const key = randomBytes(32);
  const project = await loadProjectAead(ctx.options.root, ctx.options.tmp);
  let inst: AeadInstance;
  let name: string;
  if (project !== null) {
    inst = await project.create("aes-256-gcm", key);
    name = "bare primitive (src/crypto/aead.ts)";
  } else {
    name = "bare primitive (node:crypto)";
    inst = {
      seal(nonce, pt) {
        const c = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG });
        const out = Buffer.allocUnsafe(NONCE + pt.length + TAG);
        out.set(nonce, 0);
        out.set(c.update(pt), NONCE);
        c.final();
        out.set(c.getAuthTag(), NONCE + pt.length);
        return out;
      },
      open(sealed) {
        const d = createDecipheriv("aes-256-gcm", key, sealed.subarray(0, NONCE), { authTagLength: TAG });
        d.setAuthTag(sealed.subarray(sealed.length - TAG));
        const p = d.update(sealed.subarray(NONCE, sealed.length - TAG));
        d.final();
        return p;
      },
    };
  }
  // Random nonces as the engine makes them: from the project's pool when there is one.
  let nonce: () => Uint8Array = () => randomBytes(NONCE);
  try {
    const pool = await loadProjectModule<{ randomPooled?: (n: number) => Uint8Array }>(
      ctx.options.root,
      "src/crypto/random-pool.ts",
      ctx.options.tmp,
    );
    const pooled = pool?.randomPooled;
    if (typeof pooled === "function") nonce = () => pooled(NONCE);
  } catch {
    // no pool yet: randomBytes per nonce
  }
  return {
    name,
    seal: (pt) => inst.seal(nonce(), pt),
    open: (sealed) => inst.open(sealed),
  };
}

/** Layer 2: encrypt, decrypt, rewrap, sign, hmac through the framework with a cached key. */
export async function runEngine(ctx: RunContext): Promise<void> {
  const engine = await loadEngine(ctx.options.root, ctx.options.tmp);
  const quick = ctx.options.quick;
  await engine.write("keys/k", { type: "aes256-gcm96" });
  const bare = await barePrimitives(ctx);
  const sizes = quick ? [64] : SIZES;
  const batches = quick ? [100] : [100, 1000];

  const cases: Case[] = [];
  const limits: Case[] = [];
  const call = (path: string, data: Record<string, unknown>) => () =>
    engine.backend.handleRequest({ operation: "update", path, data, storage: engine.storage });

  const encryptOne = async (pt: Uint8Array): Promise<string> =>
    String((await engine.write("encrypt/k", { plaintext: b64(pt) }))["ciphertext"]);

  for (const size of sizes) {
    const pt = randomBytes(size);
    const ct = await encryptOne(pt);
    cases.push({ op: "encrypt", size, batch: 1, fn: call("encrypt/k", { plaintext: b64(pt) }) });
    cases.push({ op: "decrypt", size, batch: 1, fn: call("decrypt/k", { ciphertext: ct }) });
    cases.push({ op: "rewrap", size, batch: 1, fn: call("rewrap/k", { ciphertext: ct }) });
    const bareSealed = (await bare.seal(pt)) as Uint8Array;
    limits.push({ op: "encrypt", size, batch: 1, fn: () => bare.seal(pt) });
    limits.push({ op: "decrypt", size, batch: 1, fn: () => bare.open(bareSealed) });
    limits.push({
      op: "rewrap",
      size,
      batch: 1,
      fn: () => {
        bare.open(bareSealed);
        return bare.seal(pt);
      },
    });
  }
  for (const batch of batches) {
    const items = Array.from({ length: batch }, () => randomBytes(BATCH_ITEM));
    const cts = await Promise.all(items.map(encryptOne));
    cases.push({
      op: "encrypt",
      size: BATCH_ITEM,
      batch,
      fn: call("encrypt/k", { batch_input: items.map((p) => ({ plaintext: b64(p) })) }),
    });
    cases.push({
      op: "decrypt",
      size: BATCH_ITEM,
      batch,
      fn: call("decrypt/k", { batch_input: cts.map((c) => ({ ciphertext: c })) }),
    });
    cases.push({
      op: "rewrap",
      size: BATCH_ITEM,
      batch,
      fn: call("rewrap/k", { batch_input: cts.map((c) => ({ ciphertext: c })) }),
    });
  }

  await signAndHmac(ctx, engine, cases, limits, sizes, batches);

  // Check every case answers without an error before timing it.
  for (const c of cases) {
    const resp = (await c.fn()) as { data?: Record<string, unknown> } | null;
    const err = resp?.data?.["error"];
    if (typeof err === "string" && err !== "") throw new Error(`engine ${c.op} ${c.size}: ${err}`);
  }

  const ops = [...new Set(cases.map((c) => c.op))];
  for (const op of ops) {
    const group = `engine ${op}`;
    const mine = cases.filter((c) => c.op === op);
    const lims = limits.filter((c) => c.op === op);
    const label = (c: Case, who: string): string => `${who}|${c.size}|${c.batch}`;
    const tasks: TaskDef[] = [
      ...mine.map((c) => ({
        key: label(c, "engine"),
        label: `${group} ${formatSize(c.size)} ×${c.batch}`,
        fn: c.fn,
      })),
      ...lims.map((c) => ({ key: label(c, "bare"), label: `${group} ${formatSize(c.size)} bare`, fn: c.fn })),
    ];
    const timings = await ctx.measure(tasks);
    for (const c of lims) {
      const t = timings.get(label(c, "bare"));
      if (t !== undefined)
        ctx.recordTiming(t, {
          group,
          impl:
            c.op === "sign"
              ? "bare ed25519 (node:crypto)"
              : c.op === "hmac"
                ? "bare hmac-sha256 (node:crypto)"
                : bare.name,
          op,
          size: c.size,
          batch: 1,
          concurrency: 1,
          limit: true,
        });
    }
    for (const c of mine) {
      const t = timings.get(label(c, "engine"));
      if (t !== undefined)
        ctx.recordTiming(t, { group, impl: "engine", op, size: c.size, batch: c.batch, concurrency: 1 });
    }
    const find = (impl: "engine" | "limit", size: number, batch: number) =>
      ctx.find(
        (m) =>
          m.layer === "engine" &&
          m.group === group &&
          m.size === size &&
          m.batch === batch &&
          (impl === "limit" ? m.limit === true : m.impl === "engine"),
      );
    for (const size of sizes) {
      ctx.ratio({
        id: `engine-vs-bare|${op}|${size}`,
        description: `engine ${op} ${formatSize(size)} / bare primitive`,
        numerator: find("engine", size, 1),
        denominator: find("limit", size, 1),
        target: op === "encrypt" && size === 64 ? 0.5 : null,
      });
      if (op === "encrypt" && size === 64)
        ctx.ratio({
          id: `engine-vs-bare-cpu|${op}|${size}`,
          description: `engine ${op} ${formatSize(size)} / bare primitive, in CPU time`,
          numerator: find("engine", size, 1),
          denominator: find("limit", size, 1),
          basis: "cpuItems",
          note: "the same two measurements in CPU time of the process: other jobs on the shared machine stretch wall time (preemption) far more",
        });
    }
    for (const batch of batches) {
      ctx.ratio({
        id: `engine-batch-vs-bare|${op}|${batch}`,
        description: `engine ${op} batch of ${batch} (64 B items), per item / bare primitive`,
        numerator: find("engine", BATCH_ITEM, batch),
        denominator: find("limit", BATCH_ITEM, 1),
        target: op === "encrypt" && batch === 1000 ? 0.8 : null,
      });
      if (op === "encrypt" && batch === 1000)
        ctx.ratio({
          id: `engine-batch-vs-bare-cpu|${op}|${batch}`,
          description: `engine ${op} batch of ${batch} (64 B items), per item / bare primitive, in CPU time`,
          numerator: find("engine", BATCH_ITEM, batch),
          denominator: find("limit", BATCH_ITEM, 1),
          basis: "cpuItems",
          note: "the same two measurements in CPU time of the process (a 10 ms batch call is preempted by other jobs where a 10 µs call is not)",
        });
    }
  }
}

async function signAndHmac(
  ctx: RunContext,
  engine: Engine,
  cases: Case[],
  limits: Case[],
  sizes: number[],
  batches: number[],
): Promise<void> {
  const call = (path: string, data: Record<string, unknown>) => () =>
    engine.backend.handleRequest({ operation: "update", path, data, storage: engine.storage });
  // sign/ and hmac/ come later than encrypt/: measured once the engine routes them.
  let canSign = false;
  try {
    await engine.write("keys/s", { type: "ed25519" });
    canSign = await engine.hasPath("sign/s", { input: b64(randomBytes(8)) });
  } catch (e) {
    ctx.progress.line(`sign: ${(e as Error).message.split("\n")[0]}`);
  }
  if (canSign) {
    const ed = generateKeyPairSync("ed25519");
    for (const size of sizes) {
      const input = randomBytes(size);
      cases.push({ op: "sign", size, batch: 1, fn: call("sign/s", { input: b64(input) }) });
      limits.push({ op: "sign", size, batch: 1, fn: () => sign(null, input, ed.privateKey) });
    }
    for (const batch of batches) {
      const items = Array.from({ length: batch }, () => ({ input: b64(randomBytes(BATCH_ITEM)) }));
      cases.push({ op: "sign", size: BATCH_ITEM, batch, fn: call("sign/s", { batch_input: items }) });
    }
  } else {
    ctx.progress.line("engine sign: sign/ not available yet");
  }
  const canHmac = await engine.hasPath("hmac/k", { input: b64(randomBytes(8)) });
  if (canHmac) {
    const key = randomBytes(32);
    for (const size of sizes) {
      const input = randomBytes(size);
      cases.push({ op: "hmac", size, batch: 1, fn: call("hmac/k", { input: b64(input) }) });
      limits.push({
        op: "hmac",
        size,
        batch: 1,
        fn: () => createHmac("sha256", key).update(input).digest(),
      });
    }
    for (const batch of batches) {
      const items = Array.from({ length: batch }, () => ({ input: b64(randomBytes(BATCH_ITEM)) }));
      cases.push({ op: "hmac", size: BATCH_ITEM, batch, fn: call("hmac/k", { batch_input: items }) });
    }
  } else {
    ctx.progress.line("engine hmac: hmac/ not available yet");
  }
}
