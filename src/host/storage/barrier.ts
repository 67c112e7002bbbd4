/**
 * The dev host's security barrier, after Vault's AESGCMBarrier: every value
 * that reaches the database is sealed with AES-256-GCM under the active term
 * of a versioned keyring, with the storage path as associated data.
 *
 *   value = term (uint32 BE) | version 0x02 | nonce (12) | ciphertext | tag (16)
 *
 * The term says which keyring key sealed the value, so rotation adds a term
 * and old values stay readable. Binding the path means a value copied to
 * another path (or another mount's prefix) fails authentication instead of
 * being accepted. Key material never leaves this module in an error message.
 */
import { pack, unpack } from "msgpackr";
import { open, randomNonce, seal } from "../../crypto/aead.ts";
import { randomBytes } from "../../crypto/hash.ts";
import { StorageError } from "../../framework/errors.ts";

export const KEY_SIZE = 32;
const NONCE_SIZE = 12;
const TAG_SIZE = 16;
const TERM_SIZE = 4;
/** Vault's AESGCMVersion2: the path is authenticated as associated data. */
const VERSION_PATH_BOUND = 0x02;
const HEADER_SIZE = TERM_SIZE + 1;

/**
 * A value that does not open. A StorageError: its texts are fixed (paths and
 * terms, never values or keys), so a request that meets one answers 500 with
 * the text instead of a generic "internal error".
 */
export class BarrierError extends StorageError {
  constructor(message: string) {
    super(message);
    this.name = "BarrierError";
  }
}

/** AES-256-GCM (src/crypto/aead.ts): nonce | ciphertext | tag, a fresh random nonce each time. */
export function aeadSeal(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Buffer {
  return seal("aes256-gcm96", key, randomNonce(), plaintext, aad);
}

/** Opens nonce | ciphertext | tag; throws BarrierError if it does not authenticate. */
export function aeadOpen(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer {
  if (sealed.length < NONCE_SIZE + TAG_SIZE) throw new BarrierError("sealed value too short");
  const plain = open("aes256-gcm96", key, sealed.subarray(0, NONCE_SIZE), sealed.subarray(NONCE_SIZE), aad);
  if (plain === null) throw new BarrierError("message authentication failed");
  return plain;
}

export interface TermKey {
  term: number;
  key: Buffer;
  /** RFC 3339 time the term was installed. */
  installTime: string;
}

/** Vault's barrier Keyring: immutable; rotate() returns a new one. */
export class Keyring {
  private constructor(
    readonly activeTerm: number,
    private readonly keys: ReadonlyMap<number, TermKey>,
  ) {}

  static generate(now = new Date()): Keyring {
    const first: TermKey = { term: 1, key: randomBytes(KEY_SIZE), installTime: now.toISOString() };
    return new Keyring(1, new Map([[1, first]]));
  }

  get active(): TermKey {
    return this.keys.get(this.activeTerm)!;
  }

  term(term: number): TermKey | undefined {
    return this.keys.get(term);
  }

  get terms(): number[] {
    return [...this.keys.keys()].sort((a, b) => a - b);
  }

  rotate(now = new Date()): Keyring {
    const term = this.activeTerm + 1;
    if (term > 0xffffffff) throw new BarrierError("keyring term space exhausted");
    const next = new Map(this.keys);
    next.set(term, { term, key: randomBytes(KEY_SIZE), installTime: now.toISOString() });
    return new Keyring(term, next);
  }

  encode(): Buffer {
    return pack({
      v: 1,
      activeTerm: this.activeTerm,
      keys: this.terms.map((t) => {
        const k = this.keys.get(t)!;
        return { term: k.term, key: k.key, installTime: k.installTime };
      }),
    });
  }

  static decode(bytes: Uint8Array): Keyring {
    const raw = unpack(bytes) as {
      v?: unknown;
      activeTerm?: unknown;
      keys?: { term?: unknown; key?: unknown; installTime?: unknown }[];
    };
    if (raw.v !== 1 || typeof raw.activeTerm !== "number" || !Array.isArray(raw.keys)) {
      throw new BarrierError("unrecognised keyring format");
    }
    const keys = new Map<number, TermKey>();
    for (const k of raw.keys) {
      if (typeof k.term !== "number" || !(k.key instanceof Uint8Array) || k.key.length !== KEY_SIZE) {
        throw new BarrierError("unrecognised keyring entry");
      }
      keys.set(k.term, { term: k.term, key: Buffer.from(k.key), installTime: String(k.installTime ?? "") });
    }
    if (!keys.has(raw.activeTerm)) throw new BarrierError("keyring has no key for its active term");
    return new Keyring(raw.activeTerm, keys);
  }
}

/** Seals and opens storage values for a path with the keyring's terms. */
export class Barrier {
  /** Values sealed since this barrier was built, per term (Vault's key-status "encryptions"). */
  private readonly encryptions = new Map<number, number>();

  constructor(readonly keyring: Keyring) {}

  encrypt(path: string, plaintext: Uint8Array): Buffer {
    const active = this.keyring.active;
    const header = Buffer.alloc(HEADER_SIZE);
    header.writeUInt32BE(active.term, 0);
    header[TERM_SIZE] = VERSION_PATH_BOUND;
    this.encryptions.set(active.term, (this.encryptions.get(active.term) ?? 0) + 1);
    return Buffer.concat([header, aeadSeal(active.key, plaintext, Buffer.from(path, "utf8"))]);
  }

  decrypt(path: string, value: Uint8Array): Buffer {
    if (value.length < HEADER_SIZE) throw new BarrierError(`value at ${JSON.stringify(path)} is truncated`);
    const term = Buffer.from(value.buffer, value.byteOffset, value.byteLength).readUInt32BE(0);
    const version = value[TERM_SIZE];
    if (version !== VERSION_PATH_BOUND) {
      throw new BarrierError(`value at ${JSON.stringify(path)} has unknown barrier version ${version}`);
    }
    const key = this.keyring.term(term);
    if (key === undefined) throw new BarrierError(`no barrier key for term ${term}`);
    try {
      return aeadOpen(key.key, value.subarray(HEADER_SIZE), Buffer.from(path, "utf8"));
    } catch {
      throw new BarrierError(`value at ${JSON.stringify(path)} failed authentication`);
    }
  }

  /** Term of a stored value, without opening it. */
  static termOf(value: Uint8Array): number {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).readUInt32BE(0);
  }

  encryptionsFor(term: number): number {
    return this.encryptions.get(term) ?? 0;
  }

  withKeyring(keyring: Keyring): Barrier {
    const next = new Barrier(keyring);
    for (const [t, n] of this.encryptions) next.encryptions.set(t, n);
    return next;
  }
}
