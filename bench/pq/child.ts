/**
 * The cases of issue #13 (ML-DSA-65, SLH-DSA-SHA2-128f, AES-256-GCM-SIV, AES-CMAC), run in a process of
 * their own: OpenSSL 3.5's ML-DSA, SLH-DSA and GCM-SIV are reached through node:crypto on Node 24+
 * only, and the bench's own Node is the system's 20. bench/layers/pq.ts starts this file on the
 * plugin's Node 26 runtime (or on this Node, which then measures the noble paths alone), sends the
 * measurement options on stdin, and reads back one JSON line of rows; progress goes to stderr.
 */
import { createPublicKey, type KeyObject, randomBytes, sign, verify } from "node:crypto";
import { loadProjectModule } from "../lib/bundle.ts";
import { type MeasureOptions, measureTasks, type TaskDef, type Timing } from "../lib/measure.ts";
import { Progress } from "../lib/progress.ts";
import { formatSize } from "../lib/stats.ts";

type Crypto = typeof import("./crypto-entry.ts");

export interface ChildInput {
  root: string;
  tmp: string;
  quick: boolean;
  measure: MeasureOptions;
}

/** One measured row, recorded by the parent as it stands. */
export interface ChildRow {
  group: string;
  impl: string;
  op: string;
  size: number;
  /** Who the row is: "ours", "openssl" (node:crypto directly), "noble", "gcm", "hmac". */
  role: string;
  /** ours on OpenSSL (the ≥ 0.9 target applies) or on noble. */
  backend?: string;
  limit?: boolean;
  reference?: boolean;
  timing: Timing;
}

export interface ChildOutput {
  node: string;
  openssl: string;
  rows: ChildRow[];
  /** Cases left out here, with the reason. */
  skipped: string[];
}

const MSG = 64;
const MiB = 1024 * 1024;

/** A case: tasks measured together in interleaved rounds, and the rows they become. */
interface Case {
  group: string;
  op: string;
  size: number;
  tasks: (Omit<ChildRow, "group" | "op" | "size" | "timing"> & { fn: () => unknown })[];
}

function signatureCases(c: Crypto, skipped: string[]): Case[] {
  const msg = randomBytes(MSG);
  const cases: Case[] = [];
  const ml = c.mlDsaFromSeed("65", new Uint8Array(randomBytes(32)));
  const nobleMl = c.nobleMlDsa.fromSeed("65", new Uint8Array(randomBytes(32)));
  const slh = c.slhDsaGenerate("SLH-DSA-SHA2-128f");
  const nobleSlh = c.nobleSlhDsa.generate("SLH-DSA-SHA2-128f");
  const algs = [
    {
      group: "ml-dsa-65",
      file: "src/crypto/mldsa.ts",
      backend: ml.backend,
      keyObject: ml.keyObject,
      sign: () => c.mlDsaSign(ml, msg),
      verify: (sig: Uint8Array) => () => c.mlDsaVerify("65", ml.publicKey, msg, sig),
      nobleSign: () => c.nobleMlDsa.sign(nobleMl, msg),
      nobleVerify: (sig: Uint8Array) => () => c.nobleMlDsa.verify("65", nobleMl.publicKey, msg, sig),
      nobleSig: c.nobleMlDsa.sign(nobleMl, msg),
    },
    {
      group: "slh-dsa-sha2-128f",
      file: "src/crypto/slhdsa.ts",
      backend: slh.backend,
      keyObject: slh.keyObject,
      sign: () => c.slhDsaSign(slh, msg),
      verify: (sig: Uint8Array) => () => c.slhDsaVerify("SLH-DSA-SHA2-128f", slh.publicKey, msg, sig),
      nobleSign: () => c.nobleSlhDsa.sign(nobleSlh, msg),
      nobleVerify: (sig: Uint8Array) => () =>
        c.nobleSlhDsa.verify("SLH-DSA-SHA2-128f", nobleSlh.publicKey, msg, sig),
      nobleSig: c.nobleSlhDsa.sign(nobleSlh, msg),
    },
  ];
  for (const a of algs) {
    const sig = a.sign();
    const ours = `${a.file} (${a.backend})`;
    const priv: KeyObject | undefined = a.keyObject;
    const pub = priv === undefined ? undefined : createPublicKey(priv);
    if (priv === undefined)
      skipped.push(
        `${a.group}: no OpenSSL ${a.group} in Node ${process.versions.node}: ours is noble's, no limit`,
      );
    const openssl = "node:crypto sign/verify (OpenSSL)";
    const nobleName = `@noble/post-quantum (${a.file} noble path)`;
    cases.push({
      group: a.group,
      op: "sign",
      size: MSG,
      tasks: [
        { role: "ours", impl: ours, backend: a.backend, fn: a.sign },
        ...(priv !== undefined
          ? [{ role: "openssl", impl: openssl, limit: true, fn: () => sign(null, msg, priv) }]
          : []),
        { role: "noble", impl: nobleName, reference: true, fn: a.nobleSign },
      ],
    });
    cases.push({
      group: a.group,
      op: "verify",
      size: MSG,
      tasks: [
        { role: "ours", impl: ours, backend: a.backend, fn: a.verify(sig) },
        ...(pub !== undefined
          ? [{ role: "openssl", impl: openssl, limit: true, fn: () => verify(null, msg, pub, sig) }]
          : []),
        { role: "noble", impl: nobleName, reference: true, fn: a.nobleVerify(a.nobleSig) },
      ],
    });
  }
  return cases;
}

function gcmSivCases(c: Crypto, quick: boolean, skipped: string[]): Case[] {
  const key = new Uint8Array(randomBytes(32));
  const nonce = new Uint8Array(randomBytes(12));
  const haveOpenssl = c.opensslHasGcmSiv();
  if (!haveOpenssl) skipped.push(`aes-256-gcm-siv: no OpenSSL GCM-SIV in Node ${process.versions.node}`);
  return (quick ? [MSG, MiB] : [MSG, 4096, MiB]).map((size) => {
    const pt = new Uint8Array(randomBytes(size));
    // Both without the nonce prefix: GCM-SIV's seal returns ciphertext || tag, transit adds the nonce.
    return {
      group: "aes-256-gcm-siv encrypt",
      op: "encrypt",
      size,
      tasks: [
        {
          role: "ours",
          impl: `src/crypto/gcm-siv.ts gcmSivSeal (${c.gcmSivImpl().backend})`,
          backend: c.gcmSivImpl().backend,
          fn: () => c.gcmSivSeal(key, nonce, pt),
        },
        ...(haveOpenssl
          ? [{ role: "openssl", impl: "opensslGcmSiv", fn: () => c.opensslGcmSiv.seal(key, nonce, pt) }]
          : []),
        {
          role: "noble",
          impl: "nobleGcmSiv (@noble/ciphers)",
          reference: true,
          fn: () => c.nobleGcmSiv.seal(key, nonce, pt),
        },
        {
          role: "gcm",
          impl: "aes-256-gcm, src/crypto/aead.ts seal",
          limit: true,
          fn: () => c.seal("aes256-gcm96", key, nonce, pt, undefined, false),
        },
      ],
    };
  });
}

function cmacCases(c: Crypto, quick: boolean): Case[] {
  const key = new Uint8Array(randomBytes(32));
  const ck = c.cmacKey(key);
  return (quick ? [MSG] : [MSG, 4096]).map((size) => {
    const data = new Uint8Array(randomBytes(size));
    return {
      group: "aes-256-cmac",
      op: "mac",
      size,
      tasks: [
        { role: "ours", impl: "src/crypto/cmac.ts cmac", fn: () => c.cmac(ck, data) },
        {
          role: "hmac",
          impl: "hmac-sha256, src/crypto/hash.ts hmac",
          reference: true,
          fn: () => c.hmac("sha2-256", key, data),
        },
      ],
    };
  });
}

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const input = JSON.parse(Buffer.concat(chunks).toString("utf8")) as ChildInput;
  const c = await loadProjectModule<Crypto>(input.root, "bench/pq/crypto-entry.ts", input.tmp);
  if (c === null) throw new Error("bench/pq/crypto-entry.ts missing");
  const progress = new Progress(process.stderr);
  const skipped: string[] = [];
  const cases = [
    ...signatureCases(c, skipped),
    ...gcmSivCases(c, input.quick, skipped),
    ...cmacCases(c, input.quick),
  ];
  const rows: ChildRow[] = [];
  for (const k of cases) {
    const tasks: TaskDef[] = k.tasks.map((t) => ({
      key: t.role,
      label: `${k.group} ${k.op} ${formatSize(k.size)} ${t.impl}`,
      fn: t.fn,
    }));
    const timings = await measureTasks(tasks, input.measure, progress);
    for (const { fn: _fn, ...t } of k.tasks) {
      const timing = timings.get(t.role);
      if (timing !== undefined) rows.push({ ...t, group: k.group, op: k.op, size: k.size, timing });
    }
  }
  const out: ChildOutput = {
    node: process.versions.node,
    openssl: process.versions.openssl,
    rows,
    skipped,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

await main();
