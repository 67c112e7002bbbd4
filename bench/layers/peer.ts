import { createDecipheriv, randomBytes } from "node:crypto";
import { type RunContext, SkipLayer } from "../lib/context.ts";
import { buildGoPeer, type GoResult, goPeerCheck, runGoPeer } from "../lib/go.ts";
import { mergeTimings, type Timing } from "../lib/measure.ts";
import { bestRound, formatSize } from "../lib/stats.ts";
import { b64, loadEngine } from "./engine-setup.ts";

const SIZES = [64, 1024, 4096, 16 * 1024, 1024 * 1024];

function fromGo(r: GoResult[]): Timing {
  const rounds = r.flatMap((x) => x.rounds);
  const opsPerSec = bestRound(rounds);
  return {
    opsPerSec,
    meanUs: 1e6 / opsPerSec,
    p50Us: Math.min(...r.map((x) => x.p50Us)),
    p99Us: Math.max(...r.map((x) => x.p99Us)),
    samples: r.reduce((n, x) => n + x.samples, 0),
    rounds,
    batch: r[0]?.batch ?? 1,
  };
}

/** Proves the Go peer does the real work: its ciphertext opens under its key with node:crypto. */
async function checkGoPeer(bin: string): Promise<void> {
  const key = randomBytes(32);
  const out = JSON.parse(await goPeerCheck(bin, 5, key.toString("hex"))) as { data: { ciphertext: string } };
  const raw = Buffer.from(out.data.ciphertext.slice("vault:v1:".length), "base64");
  const d = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12), { authTagLength: 16 });
  d.setAuthTag(raw.subarray(raw.length - 16));
  const pt = Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]).toString();
  if (pt !== "aaaaa") throw new Error(`go peer check: opened ${JSON.stringify(pt)}`);
}

/**
 * Layer 5: our engine in process with JSON in and out (parse the request
 * body, handleRequest, serialise the response) against the Go program doing
 * the least work Vault does per request, in interleaved rounds.
 */
export async function runPeer(ctx: RunContext): Promise<void> {
  const built = await buildGoPeer(ctx.options.root, ctx.options.tmp);
  if ("reason" in built) throw new SkipLayer(`${built.reason}: the Go peer is not measured`);
  await checkGoPeer(built.bin);
  const engine = await loadEngine(ctx.options.root, ctx.options.tmp);
  await engine.write("keys/peer", { type: "aes256-gcm96" });
  const { measure } = ctx.options;
  const sizes = ctx.options.quick ? [64, 16 * 1024] : SIZES;

  for (const op of ["encrypt", "decrypt"] as const) {
    const group = `${op}, JSON in and out`;
    for (const size of sizes) {
      const pt = randomBytes(size);
      const encBody = Buffer.from(JSON.stringify({ plaintext: b64(pt) }));
      const ct = String((await engine.write("encrypt/peer", { plaintext: b64(pt) }))["ciphertext"]);
      const decBody = Buffer.from(JSON.stringify({ ciphertext: ct }));
      const body = op === "encrypt" ? encBody : decBody;
      // What an HTTP handler around the engine does: bytes in, JSON.parse, the engine, JSON.stringify, bytes out.
      const fn = async (): Promise<Buffer> => {
        const data = JSON.parse(body.toString("utf8")) as Record<string, unknown>;
        const resp = await engine.backend.handleRequest({
          operation: "update",
          path: `${op}/peer`,
          data,
          storage: engine.storage,
        });
        return Buffer.from(JSON.stringify({ data: resp?.data ?? null }));
      };
      const check = JSON.parse((await fn()).toString()) as { data: Record<string, unknown> };
      if (op === "decrypt" && check.data["plaintext"] !== b64(pt))
        throw new Error("engine decrypt round trip failed");
      if (op === "encrypt" && !String(check.data["ciphertext"]).startsWith("vault:v1:"))
        throw new Error("engine encrypt did not return a vault:v1: ciphertext");

      const ours: Timing[] = [];
      const goVault: GoResult[] = [];
      const goCached: GoResult[] = [];
      const goArgs = {
        op,
        size,
        ms: measure.timeMs,
        "warmup-ms": measure.warmupMs,
        "batch-ms": measure.batchTargetMs,
        rounds: 1,
      };
      for (let round = 0; round < measure.rounds; round++) {
        ctx.progress.status(`peer ${op} ${formatSize(size)} round ${round + 1}: go`);
        goVault.push(await runGoPeer(built.bin, { ...goArgs, variant: "vault" }));
        ctx.progress.status(`peer ${op} ${formatSize(size)} round ${round + 1}: engine`);
        const t = await ctx.measure([{ key: "engine", label: `peer ${op} ${formatSize(size)} engine`, fn }], {
          rounds: 1,
          warmupMs: round === 0 ? measure.warmupMs : 20,
        });
        const mine = t.get("engine");
        if (mine !== undefined) ours.push(mine);
        if (!ctx.options.quick) goCached.push(await runGoPeer(built.bin, { ...goArgs, variant: "cached" }));
      }
      const limit = ctx.recordTiming(fromGo(goVault), {
        group,
        impl: "go peer (Vault's per-request work)",
        op,
        size,
        batch: 1,
        concurrency: 1,
        limit: true,
        note: "Go stdlib: json.Unmarshal, base64, aes.NewCipher+cipher.NewGCM per request as keysutil, crypto/rand nonce, Seal/Open in place, json.Marshal",
      });
      if (goCached.length > 0)
        ctx.recordTiming(fromGo(goCached), {
          group,
          impl: "go peer, AES-GCM cached (stricter)",
          op,
          size,
          batch: 1,
          concurrency: 1,
          reference: true,
          note: "as the go peer, with one cipher.AEAD kept across requests (less work than Vault does)",
        });
      const mine = ctx.recordTiming(mergeTimings(ours), {
        group,
        impl: "engine (in process)",
        op,
        size,
        batch: 1,
        concurrency: 1,
        note: "Buffer -> JSON.parse -> backend.handleRequest -> JSON.stringify -> Buffer",
      });
      ctx.ratio({
        id: `engine-vs-go|${op}|${size}`,
        description: `engine ${op} ${formatSize(size)} (JSON in/out) / Go lower bound`,
        numerator: mine,
        denominator: limit,
        target: 1,
      });
    }
  }
}
