import { invalidRequest, userError } from "../../framework/errors.ts";
import type { FieldData } from "../../framework/fields.ts";
import { base64ErrorMessage, decodeStdBase64 } from "../../util/base64.ts";
import { mapInSlices, TimeSlice } from "../../util/time-slice.ts";
import { type DigestName, isHashName } from "../keyring/hashes.ts";
import { associatedDataSupported, type KeyType } from "../keyring/key-types.ts";
import type { Keyring } from "../keyring/keyring.ts";
import type { CipherOptions, PaddingScheme } from "../keyring/symmetric.ts";
import {
  type BatchOutcome,
  batchItems,
  failItem,
  itemInt,
  itemString,
  throwBatchDecodeErrors,
} from "./batch.ts";

/** One item of an encrypt, decrypt or rewrap request (transit's BatchRequestItem). */
export interface CipherItem {
  plaintext: string;
  ciphertext: string;
  context: string;
  nonce: string;
  keyVersion: number;
  associatedData: string;
  reference: string;
  paddingScheme: string;
  /** AES-CBC encrypt only: the caller's IV, base64 (Vault Enterprise 1.21). */
  iv: string;
  /** RSA OAEP hash (hash_algorithm). */
  hashAlgorithm: string;
  /** rewrap's own schemes for its two steps. */
  decryptPaddingScheme: string;
  encryptPaddingScheme: string;
  /** Set when the item is already known to fail (Vault fills Error before touching the key). */
  error?: string;
  decodedPlaintext?: Buffer;
  decodedContext?: Uint8Array;
  decodedNonce?: Uint8Array;
}

export type CipherMode = "encrypt" | "decrypt" | "rewrap";

/**
 * The request's items: batch_input when present, else the single request
 * built from the top-level fields; null `batch` tells the two apart. A long
 * batch is read in time slices (util/time-slice.ts) so that other requests
 * are served between them.
 */
export async function readCipherItems(
  d: FieldData,
  mode: CipherMode,
): Promise<{ items: CipherItem[]; batch: boolean }> {
  const raw = batchItems(d);
  if (raw !== null) {
    const errors: string[] = [];
    const items = await mapInSlices(raw, (item, i): CipherItem => {
      if (mode === "encrypt" && !Object.hasOwn(item, "plaintext")) {
        errors.push(`'[${i}].plaintext' missing plaintext to encrypt`);
      }
      if (mode === "decrypt" && !Object.hasOwn(item, "ciphertext")) {
        errors.push(`'[${i}].ciphertext' missing ciphertext to decrypt`);
      }
      return {
        plaintext: itemString(item, i, "plaintext", errors),
        ciphertext: itemString(item, i, "ciphertext", errors),
        context: itemString(item, i, "context", errors),
        nonce: itemString(item, i, "nonce", errors),
        keyVersion: itemInt(item, i, "key_version", errors),
        associatedData: itemString(item, i, "associated_data", errors),
        reference: itemString(item, i, "reference", errors),
        paddingScheme: mode === "rewrap" ? "" : itemString(item, i, "padding_scheme", errors),
        hashAlgorithm: mode === "rewrap" ? "" : itemString(item, i, "hash_algorithm", errors),
        decryptPaddingScheme: mode === "rewrap" ? itemString(item, i, "decrypt_padding_scheme", errors) : "",
        encryptPaddingScheme: mode === "rewrap" ? itemString(item, i, "encrypt_padding_scheme", errors) : "",
        iv: itemString(item, i, "iv", errors),
      };
    });
    throwBatchDecodeErrors(errors);
    return { items, batch: true };
  }
  const has = (f: string): boolean => Object.hasOwn(d.schema, f);
  const single: CipherItem = {
    plaintext: "",
    ciphertext: "",
    context: has("context") ? d.get<"string">("context") : "",
    nonce: has("nonce") ? d.get<"string">("nonce") : "",
    keyVersion: has("key_version") ? d.get<"int">("key_version") : 0,
    associatedData: has("associated_data") ? d.get<"string">("associated_data") : "",
    reference: "",
    paddingScheme: has("padding_scheme") ? d.get<"string">("padding_scheme") : "",
    iv: has("iv") ? d.get<"string">("iv") : "",
    hashAlgorithm: has("hash_algorithm") ? d.get<"string">("hash_algorithm") : "",
    decryptPaddingScheme: has("decrypt_padding_scheme") ? d.get<"string">("decrypt_padding_scheme") : "",
    encryptPaddingScheme: has("encrypt_padding_scheme") ? d.get<"string">("encrypt_padding_scheme") : "",
  };
  if (mode === "encrypt") {
    const [plaintext, given] = d.getOk("plaintext");
    if (!given) throw invalidRequest("missing plaintext to encrypt");
    single.plaintext = plaintext as string;
  } else {
    single.ciphertext = d.get<"string">("ciphertext");
    if (single.ciphertext === "") throw invalidRequest("missing ciphertext to decrypt");
  }
  return { items: [single], batch: false };
}

/**
 * Vault's first pass over the items: context all-or-none, then base64 of the
 * plaintext (encrypt), context and nonce. Failures are recorded on the item.
 * Time-sliced as readCipherItems.
 */
export async function predecodeItems(items: CipherItem[], mode: CipherMode): Promise<void> {
  // Only a batch long enough to need slicing pays for reading the clock.
  const slice = items.length > 32 ? new TimeSlice() : null;
  const contextSet = items[0]?.context !== "";
  for (const item of items) {
    if ((item.context === "") === contextSet) {
      throw invalidRequest("context should be set either in all the request blocks or in none");
    }
  }
  for (const item of items) {
    if (slice?.due()) await slice.yield();
    if (mode === "encrypt") {
      const plaintext = decodeStdBase64(item.plaintext);
      if (plaintext === null) {
        item.error = base64ErrorMessage(item.plaintext);
        continue;
      }
      item.decodedPlaintext = plaintext;
    } else if (item.ciphertext === "") {
      item.error = "missing ciphertext to decrypt";
      continue;
    }
    if (item.context !== "") {
      const ctx = decodeStdBase64(item.context);
      if (ctx === null) {
        item.error = base64ErrorMessage(item.context);
        continue;
      }
      item.decodedContext = ctx;
    }
    if (item.nonce !== "") {
      const nonce = decodeStdBase64(item.nonce);
      if (nonce === null) {
        item.error = base64ErrorMessage(item.nonce);
        continue;
      }
      item.decodedNonce = nonce;
    }
  }
}

/**
 * The cipher options of one item for a key of `type`. A string is the item's
 * error as Vault records it for a bad padding scheme, hash algorithm or
 * associated data on a key that takes none: on the item only, without
 * counting as a failure of the batch (Vault's handlers `continue` before
 * setting userErrorInBatch). A bad base64 associated data throws: Vault
 * finds it inside EncryptWithFactory, where it does count.
 */
export function itemOptions(
  item: CipherItem,
  index: number,
  type: KeyType,
  padding: { field: string; value: string } = { field: "padding_scheme", value: item.paddingScheme },
  withAssociatedData = true,
): CipherOptions | string {
  const opts: CipherOptions = { context: item.decodedContext, nonce: item.decodedNonce };
  if (padding.value !== "") {
    const scheme = paddingSchemeArg(type, padding.value);
    if (typeof scheme !== "object") return `'[${index}].${padding.field}' invalid: ${scheme}`;
    opts.paddingScheme = scheme.scheme;
  }
  if (withAssociatedData && item.hashAlgorithm !== "") {
    const hash = hashAlgorithmArg(type, item.hashAlgorithm);
    if (typeof hash !== "object") return `'[${index}].hash_algorithm' invalid: ${hash}`;
    opts.oaepHash = hash.hash;
  }
  if (withAssociatedData && item.associatedData !== "") {
    if (!associatedDataSupported(type)) {
      return `'[${index}].associated_data' provided for non-AEAD cipher suite ${type}`;
    }
    const aad = decodeStdBase64(item.associatedData);
    if (aad === null) {
      throw userError(
        `unable to get associated_data/additional_data from factory[0]: ${base64ErrorMessage(item.associatedData)}`,
      );
    }
    opts.associatedData = aad;
  }
  if (item.iv !== "") {
    const iv = decodeStdBase64(item.iv);
    if (iv === null) throw userError(`'[${index}].iv' is not valid base64`);
    opts.iv = iv;
  }
  return opts;
}

/**
 * transit parsePaddingSchemeArg: keysutil.ParsePaddingScheme first, then the
 * key type. The error text on failure.
 */
export function paddingSchemeArg(type: KeyType, raw: string): { scheme: PaddingScheme } | string {
  if (raw !== "oaep" && raw !== "pkcs1v15") return `unknown padding scheme: ${raw}`;
  if (!type.startsWith("rsa-")) return `unsupported key type ${type} for padding scheme`;
  return { scheme: raw };
}

/**
 * transit parseHashAlgorithmArg (RSA OAEP's hash): keysutil.HashTypeMap's
 * names, then the key type; "none" keeps the default SHA-256.
 */
export function hashAlgorithmArg(type: KeyType, raw: string): { hash: DigestName | undefined } | string {
  if (!isHashName(raw)) return "unknown hash algorithm";
  if (!type.startsWith("rsa-")) return `unsupported key type ${type} for hash algorithm`;
  return { hash: raw === "none" ? undefined : raw };
}

/** transit ErrNonceNotAllowed. */
export const ERR_NONCE_NOT_ALLOWED = "provided nonce not allowed for this key";

/** Only convergent version 1 keys take a caller's nonce. */
export function nonceAllowed(ring: Keyring): boolean {
  return (
    ring.type !== "rsa-2048" &&
    ring.type !== "rsa-3072" &&
    ring.type !== "rsa-4096" &&
    ring.convergentEncryption &&
    ring.convergentVersion === 1
  );
}

/**
 * Encrypt's and decrypt's per-item loop, as Vault's handlers run it: an item
 * already failed by predecodeItems counts as the caller's error; `op` fills
 * `result` and returns undefined on success, or returns the item's error
 * (recorded on the item only, see itemOptions); a throw is classified by
 * failItem. Time-sliced as readCipherItems.
 */
export async function runCipherItems(
  items: CipherItem[],
  batch: boolean,
  op: (item: CipherItem, index: number, result: Record<string, unknown>) => string | undefined,
): Promise<{ results: Record<string, unknown>[]; outcome: BatchOutcome }> {
  const outcome: BatchOutcome = { successes: false, userErrors: false, internalErrors: false };
  const results = await mapInSlices(items, (item, i) => {
    const result: Record<string, unknown> = {};
    if (item.error !== undefined) {
      outcome.userErrors = true;
      result["error"] = item.error;
    } else {
      try {
        const error = op(item, i, result);
        if (error !== undefined) result["error"] = error;
        else outcome.successes = true;
      } catch (e) {
        result["error"] = failItem(outcome, e);
      }
    }
    if (batch) result["reference"] = item.reference;
    return result;
  });
  return { results, outcome };
}
