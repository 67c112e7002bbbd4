// Runs in the plugin executable's Node 26 runtime (OpenSSL 3.5), spawned by openssl-runtime.ts:
// reads a JSON list of calls on stdin, runs each against src/crypto, writes the results as JSON.
// Byte arrays travel as {"$b": hex}; KeyObjects are dropped (they cannot cross the process boundary).
import * as aesCbc from "../../../src/crypto/aes-cbc.ts";
import * as cmac from "../../../src/crypto/cmac.ts";
import * as ed from "../../../src/crypto/ed25519-variants.ts";
import * as gcmSiv from "../../../src/crypto/gcm-siv.ts";
import * as hybrid from "../../../src/crypto/hybrid-sig.ts";
import * as mldsa from "../../../src/crypto/mldsa.ts";
import * as runtime from "../../../src/crypto/pq-runtime.ts";
import * as slhdsa from "../../../src/crypto/slhdsa.ts";

/** Calls that chain two steps through a KeyObject, which cannot cross the process boundary. */
const chain = {
  mldsaSign(set: mldsa.MlDsaParameterSet, seed: Uint8Array, message: Uint8Array, context?: Uint8Array) {
    return mldsa.opensslMlDsa.sign(mldsa.opensslMlDsa.fromSeed(set, seed), message, { context });
  },
  slhdsaSign(
    set: slhdsa.SlhDsaParameterSet,
    privateKey: Uint8Array,
    message: Uint8Array,
    context?: Uint8Array,
  ) {
    return slhdsa.opensslSlhDsa.sign(slhdsa.opensslSlhDsa.fromPrivateKey(set, privateKey), message, {
      context,
    });
  },
  hybridSign(
    set: mldsa.MlDsaParameterSet,
    ec: hybrid.HybridEcType,
    seed: Uint8Array,
    ecPrivateKey: Uint8Array,
    message: Uint8Array,
    context?: Uint8Array,
  ) {
    const scheme = hybrid.hybridScheme(set, ec);
    return hybrid.hybridSign(scheme, mldsa.opensslMlDsa.fromSeed(set, seed), ecPrivateKey, message, context);
  },
  hybridVerify(
    set: mldsa.MlDsaParameterSet,
    ec: hybrid.HybridEcType,
    publicKey: Uint8Array,
    message: Uint8Array,
    signature: Uint8Array,
    context?: Uint8Array,
  ) {
    return hybrid.hybridVerify(hybrid.hybridScheme(set, ec), publicKey, message, signature, context);
  },
  backends() {
    return {
      mldsa: mldsa.mlDsaImpl().backend,
      slhdsa: slhdsa.slhDsaImpl().backend,
      ed25519ctx: ed.ed25519ctxImpl().backend,
      gcmSiv: gcmSiv.gcmSivImpl().backend,
    };
  },
};

const modules: Record<string, Record<string, unknown>> = {
  aesCbc,
  chain,
  cmac,
  ed,
  gcmSiv,
  hybrid,
  mldsa,
  runtime,
  slhdsa,
};

function decode(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(decode);
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (typeof o.$b === "string") return new Uint8Array(Buffer.from(o.$b, "hex"));
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, decode(x)]));
  }
  return v;
}

function encode(v: unknown): unknown {
  if (v instanceof Uint8Array) return { $b: Buffer.from(v).toString("hex") };
  if (Array.isArray(v)) return v.map(encode);
  if (v !== null && typeof v === "object") {
    if (v.constructor?.name?.includes("KeyObject")) return undefined;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encode(x)]));
  }
  return v;
}

function resolve(path: string): (...args: unknown[]) => unknown {
  const [mod, ...rest] = path.split(".");
  let target: unknown = modules[mod as string];
  let self: unknown;
  for (const part of rest) {
    self = target;
    target = (target as Record<string, unknown>)[part];
  }
  if (typeof target !== "function") throw new Error(`no function ${path}`);
  return (...args) => (target as (...a: unknown[]) => unknown).apply(self, args);
}

const chunks: Buffer[] = [];
for await (const c of process.stdin) chunks.push(c as Buffer);
const calls = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { fn: string; args: unknown[] }[];
const results = calls.map(({ fn, args }) => {
  try {
    return { ok: encode(resolve(fn)(...(decode(args) as unknown[]))) };
  } catch (e) {
    return { error: (e as Error).message };
  }
});
process.stdout.write(JSON.stringify({ openssl: process.versions.openssl, node: process.version, results }));
