import {
  type CipherGCM,
  type CipherGCMTypes,
  createCipheriv,
  createDecipheriv,
  createSecretKey,
  type DecipherGCM,
  type KeyObject,
  webcrypto,
} from "node:crypto";
import { gcm } from "@noble/ciphers/aes.js";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { loadProjectModule } from "../lib/bundle.ts";

/**
 * The AEAD implementations the primitives layer compares, all producing and
 * taking Vault's layout: nonce (12) || ciphertext || tag (16). A nonce is
 * always given by the caller and never reused by an implementation.
 */
export const AEADS = ["aes-256-gcm", "aes-128-gcm", "chacha20-poly1305"] as const;
export type AeadName = (typeof AEADS)[number];

export const NONCE = 12;
export const TAG = 16;
/** Chunk length for large messages: keeps OpenSSL's output buffers small and hot in cache. */
export const CHUNK = 64 * 1024;

export function keyLength(alg: AeadName): number {
  return alg === "aes-128-gcm" ? 16 : 32;
}

type Bytes = Uint8Array;
type MaybePromise<T> = T | Promise<T>;

export interface AeadInstance {
  /** nonce || ciphertext || tag. */
  seal(nonce: Bytes, plaintext: Bytes): MaybePromise<Bytes>;
  /** The plaintext of nonce || ciphertext || tag; throws when authentication fails. */
  open(sealed: Bytes): MaybePromise<Bytes>;
}

export interface AeadImpl {
  name: string;
  /** Explains what the variant does differently. */
  note: string;
  /** Not a per-message AEAD (e.g. one stream of updates): drawn as a reference only. */
  reference?: boolean;
  supports(alg: AeadName): boolean;
  create(alg: AeadName, key: Bytes): Promise<AeadInstance>;
}

const asGcm = (alg: AeadName): CipherGCMTypes => alg as CipherGCMTypes;

function cipher(alg: AeadName, key: Bytes | KeyObject, nonce: Bytes): CipherGCM {
  return createCipheriv(asGcm(alg), key, nonce, { authTagLength: TAG });
}

function decipher(alg: AeadName, key: Bytes | KeyObject, nonce: Bytes): DecipherGCM {
  return createDecipheriv(asGcm(alg), key, nonce, { authTagLength: TAG });
}

/** The textbook version: update + final + getAuthTag glued with Buffer.concat. */
const nodeNaive: AeadImpl = {
  name: "node:crypto naive",
  note: "createCipheriv, update, final, Buffer.concat([nonce, ct, tag])",
  supports: () => true,
  async create(alg, key) {
    return {
      seal(nonce, pt) {
        const c = cipher(alg, key, nonce);
        return Buffer.concat([nonce, c.update(pt), c.final(), c.getAuthTag()]);
      },
      open(sealed) {
        const d = decipher(alg, key, sealed.subarray(0, NONCE));
        d.setAuthTag(sealed.subarray(sealed.length - TAG));
        return Buffer.concat([d.update(sealed.subarray(NONCE, sealed.length - TAG)), d.final()]);
      },
    };
  },
};

/** One output buffer of the final size; update's result copied in once; open returns update's buffer. */
const nodePrealloc: AeadImpl = {
  name: "node:crypto prealloc",
  note: "one allocUnsafe of the final size, update copied in once, no concat; open returns update's own buffer",
  supports: () => true,
  async create(alg, key) {
    return {
      seal(nonce, pt) {
        const c = cipher(alg, key, nonce);
        const out = Buffer.allocUnsafe(NONCE + pt.length + TAG);
        out.set(nonce, 0);
        out.set(c.update(pt), NONCE);
        c.final();
        out.set(c.getAuthTag(), NONCE + pt.length);
        return out;
      },
      open(sealed) {
        const d = decipher(alg, key, sealed.subarray(0, NONCE));
        d.setAuthTag(sealed.subarray(sealed.length - TAG));
        const plain = d.update(sealed.subarray(NONCE, sealed.length - TAG));
        d.final();
        return plain;
      },
    };
  },
};

function sealChunked(c: CipherGCM, nonce: Bytes, pt: Bytes, out: Buffer): void {
  out.set(nonce, 0);
  let at = NONCE;
  for (let i = 0; i < pt.length; i += CHUNK) {
    const part = c.update(pt.subarray(i, Math.min(pt.length, i + CHUNK)));
    out.set(part, at);
    at += part.length;
  }
  c.final();
  out.set(c.getAuthTag(), at);
}

function openChunked(d: DecipherGCM, body: Bytes, out: Buffer): void {
  let at = 0;
  for (let i = 0; i < body.length; i += CHUNK) {
    const part = d.update(body.subarray(i, Math.min(body.length, i + CHUNK)));
    out.set(part, at);
    at += part.length;
  }
  d.final();
}

/** As prealloc, but large messages go through update in 64 KiB chunks (fresh output per call). */
const nodeChunked: AeadImpl = {
  name: "node:crypto chunked",
  note: "prealloc, and messages over 64 KiB pass through update in 64 KiB chunks copied into the output",
  supports: () => true,
  async create(alg, key) {
    return {
      seal(nonce, pt) {
        const c = cipher(alg, key, nonce);
        const out = Buffer.allocUnsafe(NONCE + pt.length + TAG);
        sealChunked(c, nonce, pt, out);
        return out;
      },
      open(sealed) {
        const body = sealed.subarray(NONCE, sealed.length - TAG);
        const d = decipher(alg, key, sealed.subarray(0, NONCE));
        d.setAuthTag(sealed.subarray(sealed.length - TAG));
        if (body.length <= CHUNK) {
          const plain = d.update(body);
          d.final();
          return plain;
        }
        const out = Buffer.allocUnsafe(body.length);
        openChunked(d, body, out);
        return out;
      },
    };
  },
};

/**
 * Chunked into one output buffer reused from call to call: the result is a
 * view valid until the next call, which suits a caller that base64-encodes it
 * at once (the engine does). No buffer of the message's size is allocated.
 */
const nodeReused: AeadImpl = {
  name: "node:crypto chunked+reused",
  note: "chunked into a scratch buffer reused across calls (the result is valid until the next call)",
  supports: () => true,
  async create(alg, key) {
    let scratch = Buffer.allocUnsafe(0);
    const room = (n: number): Buffer => {
      if (scratch.length < n) scratch = Buffer.allocUnsafe(Math.max(n, scratch.length * 2));
      return scratch;
    };
    return {
      seal(nonce, pt) {
        const n = NONCE + pt.length + TAG;
        const out = room(n);
        sealChunked(cipher(alg, key, nonce), nonce, pt, out);
        return out.subarray(0, n);
      },
      open(sealed) {
        const body = sealed.subarray(NONCE, sealed.length - TAG);
        const d = decipher(alg, key, sealed.subarray(0, NONCE));
        d.setAuthTag(sealed.subarray(sealed.length - TAG));
        if (body.length <= CHUNK) {
          const plain = d.update(body);
          d.final();
          return plain;
        }
        const out = room(body.length);
        openChunked(d, body, out);
        return out.subarray(0, body.length);
      },
    };
  },
};

/** The key imported once as a KeyObject instead of raw bytes on every call. */
const nodeKeyObject: AeadImpl = {
  name: "node:crypto KeyObject",
  note: "prealloc with the key as a KeyObject made once (createSecretKey)",
  supports: () => true,
  async create(alg, key) {
    const ko = createSecretKey(key);
    return {
      seal(nonce, pt) {
        const c = cipher(alg, ko, nonce);
        const out = Buffer.allocUnsafe(NONCE + pt.length + TAG);
        out.set(nonce, 0);
        out.set(c.update(pt), NONCE);
        c.final();
        out.set(c.getAuthTag(), NONCE + pt.length);
        return out;
      },
      open(sealed) {
        const d = decipher(alg, ko, sealed.subarray(0, NONCE));
        d.setAuthTag(sealed.subarray(sealed.length - TAG));
        const plain = d.update(sealed.subarray(NONCE, sealed.length - TAG));
        d.final();
        return plain;
      },
    };
  },
};

const noble: AeadImpl = {
  name: "@noble/ciphers",
  note: "gcm / chacha20poly1305 from @noble/ciphers (pure JS), one output allocation",
  supports: () => true,
  async create(alg, key) {
    const make = alg === "chacha20-poly1305" ? chacha20poly1305 : gcm;
    return {
      seal(nonce, pt) {
        const sealed = make(key, nonce).encrypt(pt);
        const out = new Uint8Array(NONCE + sealed.length);
        out.set(nonce, 0);
        out.set(sealed, NONCE);
        return out;
      },
      open(sealed) {
        return make(key, sealed.subarray(0, NONCE)).decrypt(sealed.subarray(NONCE));
      },
    };
  },
};

const subtle = webcrypto.subtle;

const webCrypto: AeadImpl = {
  name: "WebCrypto",
  note: "crypto.subtle AES-GCM with a CryptoKey imported once (async, runs on libuv's thread pool)",
  // Node 20's WebCrypto has no ChaCha20-Poly1305.
  supports: (alg) => alg !== "chacha20-poly1305",
  async create(_alg, key) {
    const ck = await subtle.importKey("raw", key, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
    return {
      async seal(nonce, pt) {
        // The caller may reuse its nonce buffer once this returns: keep a copy across the await.
        const iv = nonce.slice();
        const sealed = new Uint8Array(await subtle.encrypt({ name: "AES-GCM", iv, tagLength: 128 }, ck, pt));
        const out = new Uint8Array(NONCE + sealed.length);
        out.set(iv, 0);
        out.set(sealed, NONCE);
        return out;
      },
      async open(sealed) {
        return new Uint8Array(
          await subtle.decrypt(
            { name: "AES-GCM", iv: sealed.subarray(0, NONCE), tagLength: 128 },
            ck,
            sealed.subarray(NONCE),
          ),
        );
      },
    };
  },
};

/**
 * Not an AEAD per message: one cipher context fed update after update, the
 * way `openssl speed -evp` runs. It shows what Node's own OpenSSL reaches
 * through cipher.update (allocation included) without per-message setup.
 */
const nodeStream: AeadImpl = {
  name: "node:crypto stream (ref)",
  note: "one context, update() after update(), no per-message setup or tag: Node's analog of `openssl speed -evp`",
  reference: true,
  supports: () => true,
  async create(alg, key) {
    const nonce = new Uint8Array(NONCE);
    const c = cipher(alg, key, nonce);
    const d = decipher(alg, key, nonce);
    return {
      seal: (_nonce, pt) => c.update(pt),
      open: (sealed) => d.update(sealed.subarray(NONCE, sealed.length - TAG)),
    };
  },
};

/** The project's hot-path module, src/crypto/aead.ts, when it is there. */
type AeadModule = {
  seal(
    alg: string,
    key: Bytes,
    nonce: Bytes,
    pt: Bytes,
    aad: Bytes | undefined,
    prefixNonce?: boolean,
  ): Bytes;
  open(alg: string, key: Bytes, nonce: Bytes, sealed: Bytes, aad: Bytes | undefined): Bytes | null;
  /** What transit's encrypt seals with (a reused output buffer above 64 KiB), when the module has it. */
  sealTransient?(alg: string, key: Bytes, nonce: Bytes, pt: Bytes, aad: Bytes | undefined): Bytes;
};

const VAULT_NAMES: Record<AeadName, string> = {
  "aes-256-gcm": "aes256-gcm96",
  "aes-128-gcm": "aes128-gcm96",
  "chacha20-poly1305": "chacha20-poly1305",
};

export const PROJECT_AEAD = "src/crypto/aead.ts";

export async function loadProjectAead(root: string, tmp: string): Promise<AeadImpl | null> {
  const mod = await loadProjectModule<Partial<AeadModule>>(root, PROJECT_AEAD, tmp);
  if (mod === null) return null;
  const open = mod.open;
  // The engine's encrypt seals through sealTransient when the module has it: that is the hot path.
  const transient = mod.sealTransient;
  const seal = typeof transient === "function" ? transient : mod.seal;
  if (typeof seal !== "function" || typeof open !== "function") return null;
  return {
    name: PROJECT_AEAD,
    note: `the engine's hot path as committed (${typeof transient === "function" ? "sealTransient" : "seal"}/open of src/crypto/aead.ts)`,
    supports: () => true,
    async create(alg, key) {
      const name = VAULT_NAMES[alg];
      return {
        seal: (nonce, pt) => seal(name, key, nonce, pt, undefined),
        open(sealed) {
          const plain = open(name, key, sealed.subarray(0, NONCE), sealed.subarray(NONCE), undefined);
          if (plain === null) throw new Error("authentication failed");
          return plain;
        },
      };
    },
  };
}

export const AEAD_IMPLS: readonly AeadImpl[] = [
  nodeNaive,
  nodePrealloc,
  nodeChunked,
  nodeReused,
  nodeKeyObject,
  noble,
  webCrypto,
  nodeStream,
];

/** 12-byte nonces from a counter: never repeated for the life of the process, and free to make. */
export class CounterNonce {
  private readonly buf = Buffer.alloc(NONCE);
  private n = 0;

  constructor(prefix = 0) {
    this.buf.writeUInt32BE(prefix >>> 0, 0);
  }

  next(): Buffer {
    this.n++;
    this.buf.writeUInt32BE(Math.floor(this.n / 2 ** 32) >>> 0, 4);
    this.buf.writeUInt32BE(this.n >>> 0, 8);
    return this.buf;
  }
}
