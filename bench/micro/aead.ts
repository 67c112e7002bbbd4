/**
 * Quick micro-benchmark behind the implementation table in src/crypto/aead.ts:
 * node:crypto (one update / 64 KiB chunks) vs @noble/ciphers vs WebCrypto,
 * seal and open, per algorithm and size. Not part of the bench harness.
 *
 *   node --import tsx bench/micro/aead.ts [ms-per-case]
 */
import { createCipheriv, createDecipheriv, randomBytes, webcrypto } from "node:crypto";
import { gcm } from "@noble/ciphers/aes.js";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";

type Alg = "aes-128-gcm" | "aes-256-gcm" | "chacha20-poly1305";
const ALGS: Alg[] = ["aes-128-gcm", "aes-256-gcm", "chacha20-poly1305"];
const SIZES = [64, 1024, 16 * 1024, 1024 * 1024];
const CHUNK = 64 * 1024;
const MS = Number(process.argv[2] ?? 300);

type Seal = (
  key: Uint8Array,
  nonce: Uint8Array,
  pt: Uint8Array,
  aad: Uint8Array,
) => Uint8Array | Promise<Uint8Array>;
type Open = (key: Uint8Array, sealed: Uint8Array, aad: Uint8Array) => Uint8Array | Promise<Uint8Array>;
interface Impl {
  name: string;
  supports(alg: Alg): boolean;
  seal(alg: Alg): Seal;
  open(alg: Alg): Open;
}

const nodeOne: Impl = {
  name: "node one update",
  supports: () => true,
  seal: (alg) => (key, nonce, pt, aad) => {
    const c = createCipheriv(alg as "aes-256-gcm", key, nonce, { authTagLength: 16 });
    c.setAAD(aad, { plaintextLength: pt.length });
    const out = Buffer.allocUnsafe(12 + pt.length + 16);
    out.set(nonce, 0);
    out.set(c.update(pt), 12);
    c.final();
    out.set(c.getAuthTag(), 12 + pt.length);
    return out;
  },
  open: (alg) => (key, sealed, aad) => {
    const d = createDecipheriv(alg as "aes-256-gcm", key, sealed.subarray(0, 12), { authTagLength: 16 });
    d.setAuthTag(sealed.subarray(sealed.length - 16));
    d.setAAD(aad, { plaintextLength: sealed.length - 28 });
    const p = d.update(sealed.subarray(12, sealed.length - 16));
    d.final();
    return p;
  },
};

const nodeChunked: Impl = {
  name: "node 64K chunks",
  supports: () => true,
  seal: (alg) => (key, nonce, pt, aad) => {
    const c = createCipheriv(alg as "aes-256-gcm", key, nonce, { authTagLength: 16 });
    c.setAAD(aad, { plaintextLength: pt.length });
    const out = Buffer.allocUnsafe(12 + pt.length + 16);
    out.set(nonce, 0);
    let at = 12;
    for (let i = 0; i < pt.length; i += CHUNK) {
      const part = c.update(pt.subarray(i, Math.min(pt.length, i + CHUNK)));
      out.set(part, at);
      at += part.length;
    }
    c.final();
    out.set(c.getAuthTag(), at);
    return out;
  },
  open: (alg) => (key, sealed, aad) => {
    const d = createDecipheriv(alg as "aes-256-gcm", key, sealed.subarray(0, 12), { authTagLength: 16 });
    d.setAuthTag(sealed.subarray(sealed.length - 16));
    const n = sealed.length - 28;
    d.setAAD(aad, { plaintextLength: n });
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    for (let i = 0; i < n; i += CHUNK) {
      const part = d.update(sealed.subarray(12 + i, 12 + Math.min(n, i + CHUNK)));
      out.set(part, at);
      at += part.length;
    }
    d.final();
    return out;
  },
};

const noble: Impl = {
  name: "@noble/ciphers",
  supports: () => true,
  seal: (alg) => (key, nonce, pt, aad) => {
    const out = new Uint8Array(12 + pt.length + 16);
    out.set(nonce, 0);
    if (alg === "chacha20-poly1305") chacha20poly1305(key, nonce, aad).encrypt(pt, out.subarray(12));
    else out.set(gcm(key, nonce, aad).encrypt(pt), 12);
    return out;
  },
  open: (alg) => (key, sealed, aad) => {
    const nonce = sealed.subarray(0, 12);
    const body = sealed.subarray(12);
    return alg === "chacha20-poly1305"
      ? chacha20poly1305(key, nonce, aad).decrypt(body)
      : gcm(key, nonce, aad).decrypt(body);
  },
};

const subtle = webcrypto.subtle;
const web: Impl = {
  name: "WebCrypto (importKey per call)",
  supports: (alg) => alg !== "chacha20-poly1305",
  seal: () => async (key, nonce, pt, aad) => {
    const k = await subtle.importKey("raw", key, "AES-GCM", false, ["encrypt"]);
    const ct = new Uint8Array(
      await subtle.encrypt({ name: "AES-GCM", iv: nonce, additionalData: aad }, k, pt),
    );
    const out = new Uint8Array(12 + ct.length);
    out.set(nonce, 0);
    out.set(ct, 12);
    return out;
  },
  open: () => async (key, sealed, aad) => {
    const k = await subtle.importKey("raw", key, "AES-GCM", false, ["decrypt"]);
    return new Uint8Array(
      await subtle.decrypt(
        { name: "AES-GCM", iv: sealed.subarray(0, 12), additionalData: aad },
        k,
        sealed.subarray(12),
      ),
    );
  },
};

const IMPLS = [nodeOne, nodeChunked, noble, web];

async function measure(fn: () => unknown): Promise<number> {
  // warm-up
  const warmEnd = performance.now() + MS / 4;
  while (performance.now() < warmEnd) await fn();
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < MS) {
    const r = fn();
    if (r instanceof Promise) await r;
    n++;
    now = performance.now();
  }
  return (n * 1000) / (now - start);
}

const rows: string[] = [];
for (const alg of ALGS) {
  const key = randomBytes(alg === "aes-128-gcm" ? 16 : 32);
  const aad = randomBytes(16);
  for (const size of SIZES) {
    const pt = randomBytes(size);
    const nonce = randomBytes(12);
    const sealed = await nodeOne.seal(alg)(key, nonce, pt, aad);
    for (const op of ["seal", "open"] as const) {
      const cells: string[] = [];
      for (const impl of IMPLS) {
        if (!impl.supports(alg)) {
          cells.push(`${impl.name}: n/a`);
          continue;
        }
        const f = op === "seal" ? impl.seal(alg) : impl.open(alg);
        const run =
          op === "seal" ? () => (f as Seal)(key, nonce, pt, aad) : () => (f as Open)(key, sealed, aad);
        // correctness check before timing
        const check = await run();
        if (op === "open" && Buffer.compare(Buffer.from(check), pt) !== 0)
          throw new Error(`${impl.name} open mismatch`);
        if (op === "seal" && Buffer.compare(Buffer.from(check), Buffer.from(sealed)) !== 0)
          throw new Error(`${impl.name} seal mismatch`);
        const ops = await measure(run);
        cells.push(`${impl.name}: ${Math.round(ops)}`);
      }
      const line = `${alg} ${op} ${size}B | ${cells.join(" | ")}`;
      rows.push(line);
      console.log(line);
    }
  }
}
