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

/** What every case builder gets: the engine with keys made, the bare primitive, the sizes of this run. */
interface Setup {
  ctx: RunContext;
  engine: Engine;
  bare: Awaited<ReturnType<typeof barePrimitives>>;
  sizes: number[];
  batches: number[];
  call: (path: string, data: Record<string, unknown>) => () => Promise<unknown>;
  /** The engine's cases and the bare primitives' limits, filled by the builders in this order. */
  cases: Case[];
  limits: (Case & { impl: string })[];
}

async function encryptOne(engine: Engine, pt: Uint8Array): Promise<string> {
  return String((await engine.write("encrypt/k", { plaintext: b64(pt) }))["ciphertext"]);
}

// Single encrypt, decrypt, rewrap per size, each beside the bare AEAD on the same data.
async function aeadCases({ engine, bare, sizes, call, cases, limits }: Setup): Promise<void> {
  for (const size of sizes) {
    const pt = randomBytes(size);
    const ct = await encryptOne(engine, pt);
    cases.push({ op: "encrypt", size, batch: 1, fn: call("encrypt/k", { plaintext: b64(pt) }) });
    cases.push({ op: "decrypt", size, batch: 1, fn: call("decrypt/k", { ciphertext: ct }) });
    cases.push({ op: "rewrap", size, batch: 1, fn: call("rewrap/k", { ciphertext: ct }) });
    const bareSealed = (await bare.seal(pt)) as Uint8Array;
    const impl = bare.name;
    limits.push({ op: "encrypt", size, batch: 1, impl, fn: () => bare.seal(pt) });
    limits.push({ op: "decrypt", size, batch: 1, impl, fn: () => bare.open(bareSealed) });
    limits.push({
      op: "rewrap",
      size,
      batch: 1,
      impl,
      fn: () => {
        bare.open(bareSealed);
        return bare.seal(pt);
      },
    });
  }
}

// batch_input of 64 B items: their per-item rate is set against the bare primitive at 64 B.
async function aeadBatchCases({ engine, batches, call, cases }: Setup): Promise<void> {
  for (const batch of batches) {
    const items = Array.from({ length: batch }, () => randomBytes(BATCH_ITEM));
    const cts = await Promise.all(items.map((p) => encryptOne(engine, p)));
    const inputs: [string, Record<string, unknown>[]][] = [
      ["encrypt", items.map((p) => ({ plaintext: b64(p) }))],
      ["decrypt", cts.map((c) => ({ ciphertext: c }))],
      ["rewrap", cts.map((c) => ({ ciphertext: c }))],
    ];
    for (const [op, batch_input] of inputs)
      cases.push({ op, size: BATCH_ITEM, batch, fn: call(`${op}/k`, { batch_input }) });
  }
}

/** The case builders, run in this order by one loop; the measured groups follow the order of their ops. */
const BUILDERS: readonly ((s: Setup) => Promise<void>)[] = [aeadCases, aeadBatchCases, signCases, hmacCases];

/** Layer 2: encrypt, decrypt, rewrap, sign, hmac through the framework with a cached key. */
export async function runEngine(ctx: RunContext): Promise<void> {
  const engine = await loadEngine(ctx.options.root, ctx.options.tmp);
  const quick = ctx.options.quick;
  await engine.write("keys/k", { type: "aes256-gcm96" });
  const setup: Setup = {
    ctx,
    engine,
    bare: await barePrimitives(ctx),
    sizes: quick ? [64] : SIZES,
    batches: quick ? [100] : [100, 1000],
    call: (path, data) => () =>
      engine.backend.handleRequest({ operation: "update", path, data, storage: engine.storage }),
    cases: [],
    limits: [],
  };
  for (const build of BUILDERS) await build(setup);

  // Check every case answers without an error before timing it.
  for (const c of setup.cases) {
    const resp = (await c.fn()) as { data?: Record<string, unknown> } | null;
    const err = resp?.data?.["error"];
    if (typeof err === "string" && err !== "") throw new Error(`engine ${c.op} ${c.size}: ${err}`);
  }
  for (const op of new Set(setup.cases.map((c) => c.op))) {
    await measureOp(setup, op);
    engineRatios(ctx, op, setup.sizes, setup.batches);
  }
}

/** One operation's cases and limits, measured together in interleaved rounds. */
async function measureOp({ ctx, cases, limits }: Setup, op: string): Promise<void> {
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
      ctx.recordTiming(t, { group, impl: c.impl, op, size: c.size, batch: 1, concurrency: 1, limit: true });
  }
  for (const c of mine) {
    const t = timings.get(label(c, "engine"));
    if (t !== undefined)
      ctx.recordTiming(t, { group, impl: "engine", op, size: c.size, batch: c.batch, concurrency: 1 });
  }
}

function engineRatios(ctx: RunContext, op: string, sizes: number[], batches: number[]): void {
  const group = `engine ${op}`;
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

// sign/ and hmac/ come later than encrypt/: measured once the engine routes them.
async function signCases({ ctx, engine, sizes, batches, call, cases, limits }: Setup): Promise<void> {
  let canSign = false;
  try {
    await engine.write("keys/s", { type: "ed25519" });
    canSign = await engine.hasPath("sign/s", { input: b64(randomBytes(8)) });
  } catch (e) {
    ctx.progress.line(`sign: ${(e as Error).message.split("\n")[0]}`);
  }
  if (!canSign) {
    ctx.progress.line("engine sign: sign/ not available yet");
    return;
  }
  const ed = generateKeyPairSync("ed25519");
  const impl = "bare ed25519 (node:crypto)";
  for (const size of sizes) {
    const input = randomBytes(size);
    cases.push({ op: "sign", size, batch: 1, fn: call("sign/s", { input: b64(input) }) });
    limits.push({ op: "sign", size, batch: 1, impl, fn: () => sign(null, input, ed.privateKey) });
  }
  for (const batch of batches) {
    const items = Array.from({ length: batch }, () => ({ input: b64(randomBytes(BATCH_ITEM)) }));
    cases.push({ op: "sign", size: BATCH_ITEM, batch, fn: call("sign/s", { batch_input: items }) });
  }
}

async function hmacCases({ ctx, engine, sizes, batches, call, cases, limits }: Setup): Promise<void> {
  if (!(await engine.hasPath("hmac/k", { input: b64(randomBytes(8)) }))) {
    ctx.progress.line("engine hmac: hmac/ not available yet");
    return;
  }
  const key = randomBytes(32);
  const impl = "bare hmac-sha256 (node:crypto)";
  for (const size of sizes) {
    const input = randomBytes(size);
    cases.push({ op: "hmac", size, batch: 1, fn: call("hmac/k", { input: b64(input) }) });
    limits.push({
      op: "hmac",
      size,
      batch: 1,
      impl,
      fn: () => createHmac("sha256", key).update(input).digest(),
    });
  }
  for (const batch of batches) {
    const items = Array.from({ length: batch }, () => ({ input: b64(randomBytes(BATCH_ITEM)) }));
    cases.push({ op: "hmac", size: BATCH_ITEM, batch, fn: call("hmac/k", { batch_input: items }) });
  }
}
