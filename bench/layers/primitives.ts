import {
  constants,
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  sign,
  verify,
} from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import { p256 } from "@noble/curves/nist.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import type { RunContext } from "../lib/context.ts";
import type { TaskDef } from "../lib/measure.ts";
import { opensslSpeed } from "../lib/openssl.ts";
import { bestRound, formatSize } from "../lib/stats.ts";
import type { Measurement } from "../lib/types.ts";
import {
  AEAD_IMPLS,
  AEADS,
  type AeadImpl,
  type AeadInstance,
  type AeadName,
  CounterNonce,
  keyLength,
  loadProjectAead,
  PROJECT_AEAD,
} from "./aead-impls.ts";
import { runPqCases } from "./pq.ts";

export const AEAD_SIZES = [64, 1024, 16 * 1024, 1024 * 1024];
const MiB = 1024 * 1024;

/** One AEAD row set: an algorithm, an operation and a size, every implementation beside OpenSSL's figure. */
interface AeadCase {
  alg: AeadName;
  op: "encrypt" | "decrypt";
  size: number;
}

/** What the AEAD cases share: the implementations, their instances per algorithm, whether openssl runs. */
interface AeadRun {
  ctx: RunContext;
  impls: AeadImpl[];
  haveProject: boolean;
  instances: Map<AeadName, Map<string, AeadInstance>>;
  opensslOk: boolean;
}

/** The AEAD cases of this run, in the order they are measured. */
function aeadCases(quick: boolean): AeadCase[] {
  const algs: readonly AeadName[] = quick ? ["aes-256-gcm"] : AEADS;
  const sizes = quick ? [64, MiB] : AEAD_SIZES;
  return algs.flatMap((alg) =>
    (["encrypt", "decrypt"] as const).flatMap((op) => sizes.map((size) => ({ alg, op, size }))),
  );
}

/** The implementations of one algorithm, made once with one random key. */
async function instancesOf(run: AeadRun, alg: AeadName): Promise<Map<string, AeadInstance>> {
  const made = run.instances.get(alg);
  if (made !== undefined) return made;
  const key = randomBytes(keyLength(alg));
  const instances = new Map<string, AeadInstance>();
  for (const impl of run.impls) if (impl.supports(alg)) instances.set(impl.name, await impl.create(alg, key));
  run.instances.set(alg, instances);
  return instances;
}

/** One round of `openssl speed` for the case (EVP stream, or the TLS-like -aead mode); null when unavailable. */
async function opensslRound(
  run: AeadRun,
  { alg, op, size }: AeadCase,
  aead: boolean,
): Promise<number | null> {
  if (!run.opensslOk) return null;
  try {
    run.ctx.progress.status(`openssl speed -evp ${alg} ${op} ${formatSize(size)}`);
    const r = await opensslSpeed({ cipher: alg, size, decrypt: op === "decrypt", aead, seconds: 1 });
    return r === null ? null : (r.opsPerSec ?? r.bytesPerSec / size);
  } catch (e) {
    if (aead) throw e;
    run.opensslOk = false;
    run.ctx.progress.line(
      `openssl speed unavailable (${(e as Error).message.split("\n")[0]}): no limit line`,
    );
    return null;
  }
}

async function measureAead(run: AeadRun, c: AeadCase): Promise<void> {
  const { ctx } = run;
  const { alg, op, size } = c;
  const quick = ctx.options.quick;
  const group = `${alg} ${op}`;
  const instances = await instancesOf(run, alg);
  const reference = instances.get("node:crypto prealloc");
  if (reference === undefined) throw new Error("node:crypto prealloc missing");
  const pt = randomBytes(size);
  const nonces = new CounterNonce(1);
  const sealed = await reference.seal(randomBytes(12), pt);

  // The limit: OpenSSL's own figure for this size, measured just before and
  // (full runs) just after ours; the best of the two is the figure.
  const evpRounds: number[] = [];
  const evp = async (): Promise<void> => {
    const r = await opensslRound(run, c, false);
    if (r !== null) evpRounds.push(r);
  };
  await evp();
  if (run.opensslOk && !quick) {
    const tls = await opensslRound(run, c, true);
    if (tls !== null)
      ctx.record({
        group,
        impl: "openssl speed -aead",
        op,
        size,
        batch: 1,
        concurrency: 1,
        opsPerSec: tls,
        reference: true,
        note: "system openssl, TLS-like sequence per message: new IV, AAD, update, final, tag",
      });
  }

  const tasks: TaskDef[] = [...instances].map(([name, inst]) => ({
    key: name,
    label: `${group} ${formatSize(size)} ${name}`,
    fn: op === "encrypt" ? () => inst.seal(nonces.next(), pt) : () => inst.open(sealed),
  }));
  const timings = await ctx.measure(tasks);
  if (!quick) await evp();
  if (evpRounds.length > 0)
    ctx.record({
      group,
      impl: "openssl speed -evp",
      op,
      size,
      batch: 1,
      concurrency: 1,
      opsPerSec: bestRound(evpRounds),
      rounds: evpRounds,
      limit: true,
      note: "system openssl, one context, stream of EVP updates (no per-message IV or tag), wall clock",
    });
  for (const impl of run.impls) {
    const t = timings.get(impl.name);
    if (t === undefined) continue;
    ctx.recordTiming(t, {
      group,
      impl: impl.name,
      op,
      size,
      batch: 1,
      concurrency: 1,
      ...(impl.reference === true ? { reference: true } : {}),
    });
  }
  aeadRatios(ctx, group, op, size, run.haveProject);
}

/** AEADs against `openssl speed -evp`: one loop over the cases. */
async function runAeads(ctx: RunContext): Promise<void> {
  const project = await loadProjectAead(ctx.options.root, ctx.options.tmp);
  if (project === null) ctx.progress.line(`${PROJECT_AEAD} not available yet: measuring the candidates only`);
  const run: AeadRun = {
    ctx,
    impls: [...AEAD_IMPLS, ...(project !== null ? [project] : [])],
    haveProject: project !== null,
    instances: new Map(),
    opensslOk: true,
  };
  for (const c of aeadCases(ctx.options.quick)) await measureAead(run, c);
  if (ctx.options.quick) ctx.progress.line("quick: AES-256-GCM only");
}

/** The sections of the layer, run in this order. */
const SECTIONS: readonly ((ctx: RunContext) => Promise<void>)[] = [
  runAeads,
  runSignatures,
  runMacs,
  runPqCases,
];

/** Layer 1: AEADs against `openssl speed -evp`, then signatures, HMAC and HKDF, noble against node:crypto. */
export async function runPrimitives(ctx: RunContext): Promise<void> {
  for (const section of SECTIONS) await section(ctx);
}

function aeadRatios(ctx: RunContext, group: string, op: string, size: number, haveProject: boolean): void {
  const at = (impl: string): Measurement | undefined =>
    ctx.find((m) => m.layer === "primitives" && m.group === group && m.size === size && m.impl === impl);
  const ours = ctx.measurements.filter(
    (m) =>
      m.layer === "primitives" &&
      m.group === group &&
      m.size === size &&
      m.limit !== true &&
      m.reference !== true &&
      m.impl !== "openssl speed -aead",
  );
  const fastest = ours.reduce<Measurement | undefined>(
    (best, m) => (best === undefined || m.opsPerSec > best.opsPerSec ? m : best),
    undefined,
  );
  const limit = at("openssl speed -evp");
  if (size === MiB) {
    ctx.ratio({
      id: `aead-1mib-vs-openssl|${group}|fastest`,
      description: `${group} 1 MiB, fastest of ours (${fastest?.impl}) / openssl speed -evp`,
      numerator: fastest,
      denominator: limit,
      basis: "bytesPerSec",
      target: 0.75,
    });
    if (haveProject)
      ctx.ratio({
        id: `aead-1mib-vs-openssl|${group}|project`,
        description: `${group} 1 MiB, ${PROJECT_AEAD} / openssl speed -evp`,
        numerator: at(PROJECT_AEAD),
        denominator: limit,
        basis: "bytesPerSec",
        target: 0.75,
      });
    // Where the gap is: Node's own OpenSSL fed one stream of updates (no per-message setup, no
    // tag, no copy: what node:crypto can reach at best) against the system's openssl, and ours
    // against that stream.
    const stream = at("node:crypto stream (ref)");
    ctx.ratio({
      id: `aead-1mib-node-stream-vs-openssl|${group}`,
      description: `${group} 1 MiB, node:crypto stream (Node's bundled OpenSSL through update) / openssl speed -evp`,
      numerator: stream,
      denominator: limit,
      basis: "bytesPerSec",
    });
    if (haveProject)
      ctx.ratio({
        id: `aead-1mib-project-vs-node-stream|${group}`,
        description: `${group} 1 MiB, ${PROJECT_AEAD} / node:crypto stream`,
        numerator: at(PROJECT_AEAD),
        denominator: stream,
        basis: "bytesPerSec",
      });
  }
  if (haveProject && (size === 64 || size === MiB))
    ctx.ratio({
      id: `aead-hot-path-is-fastest|${group}|${size}`,
      description: `${group} ${formatSize(size)}, ${PROJECT_AEAD} / fastest measured (${fastest?.impl})`,
      numerator: at(PROJECT_AEAD),
      denominator: fastest,
      basis: "opsPerSec",
      target: 0.95,
      note: "1.0 when the hot path is the fastest implementation; 0.95 allows for noise between two equal ones",
    });
  void op;
}

async function runSignatures(ctx: RunContext): Promise<void> {
  const quick = ctx.options.quick;
  const msg = randomBytes(64);
  const tasks: TaskDef[] = [];
  const meta = new Map<string, { group: string; impl: string; op: string }>();
  const add = (group: string, impl: string, op: string, fn: () => unknown): void => {
    const key = `${group}|${impl}|${op}`;
    tasks.push({ key, label: `${group} ${op} ${impl}`, fn });
    meta.set(key, { group, impl, op });
  };

  // ed25519: Node's KeyObject vs noble.
  const ed = generateKeyPairSync("ed25519");
  const edSig = sign(null, msg, ed.privateKey);
  add("ed25519", "node:crypto", "sign", () => sign(null, msg, ed.privateKey));
  add("ed25519", "node:crypto", "verify", () => verify(null, msg, ed.publicKey, edSig));
  const edSeed = ed.privateKey.export({ format: "jwk" }).d ?? "";
  const edSecret = Buffer.from(edSeed, "base64url");
  const edPub = ed25519.getPublicKey(edSecret);
  const edNobleSig = ed25519.sign(msg, edSecret);
  add("ed25519", "@noble/curves", "sign", () => ed25519.sign(msg, edSecret));
  add("ed25519", "@noble/curves", "verify", () => ed25519.verify(edNobleSig, msg, edPub));

  // ECDSA P-256 with SHA-256, DER signatures as Vault returns them.
  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const ecSig = sign("sha256", msg, { key: ec.privateKey, dsaEncoding: "der" });
  add("ecdsa-p256", "node:crypto", "sign", () =>
    sign("sha256", msg, { key: ec.privateKey, dsaEncoding: "der" }),
  );
  add("ecdsa-p256", "node:crypto", "verify", () =>
    verify("sha256", msg, { key: ec.publicKey, dsaEncoding: "der" }, ecSig),
  );
  const ecD = Buffer.from(ec.privateKey.export({ format: "jwk" }).d ?? "", "base64url");
  const ecPub = p256.getPublicKey(ecD);
  const ecNobleSig = p256.sign(msg, ecD, { format: "der" });
  add("ecdsa-p256", "@noble/curves", "sign", () => p256.sign(msg, ecD, { format: "der" }));
  add("ecdsa-p256", "@noble/curves", "verify", () => p256.verify(ecNobleSig, msg, ecPub, { format: "der" }));

  // RSA-2048 PSS (Vault's default for RSA signing): node only, noble has no RSA.
  if (!quick) {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
    // As the engine holds them: DER in the keyring, parsed into KeyObjects.
    const rsaPriv = createPrivateKey({
      key: rsa.privateKey.export({ format: "der", type: "pkcs8" }),
      format: "der",
      type: "pkcs8",
    });
    const rsaPub = createPublicKey({
      key: rsa.publicKey.export({ format: "der", type: "spki" }),
      format: "der",
      type: "spki",
    });
    const pss = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO };
    const rsaSig = sign("sha256", msg, { key: rsaPriv, ...pss });
    add("rsa-2048", "node:crypto", "sign", () => sign("sha256", msg, { key: rsaPriv, ...pss }));
    add("rsa-2048", "node:crypto", "verify", () => verify("sha256", msg, { key: rsaPub, ...pss }, rsaSig));
  }

  const timings = await ctx.measure(tasks);
  for (const [key, t] of timings) {
    const m = meta.get(key);
    if (m === undefined) continue;
    ctx.recordTiming(t, { group: m.group, impl: m.impl, op: m.op, size: 64, batch: 1, concurrency: 1 });
  }
  if (!quick) ctx.progress.line("rsa-2048: node:crypto only (@noble has no RSA)");
}

async function runMacs(ctx: RunContext): Promise<void> {
  const quick = ctx.options.quick;
  const key = randomBytes(32);
  const tasks: TaskDef[] = [];
  const meta = new Map<string, { group: string; impl: string; op: string; size: number }>();
  const add = (group: string, impl: string, op: string, size: number, fn: () => unknown): void => {
    const k = `${group}|${impl}|${size}`;
    tasks.push({ key: k, label: `${group} ${formatSize(size)} ${impl}`, fn });
    meta.set(k, { group, impl, op, size });
  };
  for (const size of quick ? [64] : [64, 4096]) {
    const data = randomBytes(size);
    add("hmac-sha256", "node:crypto", "hmac", size, () => createHmac("sha256", key).update(data).digest());
    add("hmac-sha256", "@noble/hashes", "hmac", size, () => hmac(sha256, key, data));
  }
  // Key derivation with a 32-byte context: HKDF-SHA256 (Vault's kdf hkdf_sha256) and
  // SP 800-108 counter mode with HMAC-SHA256 (Vault's default hmac_sha256_counter).
  const context = randomBytes(32);
  const empty = new Uint8Array(0);
  add("hkdf-sha256", "node:crypto", "derive", 32, () => hkdfSync("sha256", key, empty, context, 32));
  add("hkdf-sha256", "@noble/hashes", "derive", 32, () => hkdf(sha256, key, empty, context, 32));
  const counterInput = Buffer.concat([Buffer.from([0, 0, 0, 1]), context, Buffer.from([0, 0, 1, 0])]);
  add("kdf-counter-hmac-sha256", "node:crypto", "derive", 32, () =>
    createHmac("sha256", key).update(counterInput).digest(),
  );
  add("kdf-counter-hmac-sha256", "@noble/hashes", "derive", 32, () => hmac(sha256, key, counterInput));

  const timings = await ctx.measure(tasks);
  for (const [k, t] of timings) {
    const m = meta.get(k);
    if (m === undefined) continue;
    ctx.recordTiming(t, { group: m.group, impl: m.impl, op: m.op, size: m.size, batch: 1, concurrency: 1 });
  }
}
