import { invalidRequest, userError } from "../../framework/errors.ts";
import type { FieldData } from "../../framework/fields.ts";
import { base64ErrorMessage, decodeStdBase64 } from "../../util/base64.ts";
import { mapInSlices, TimeSlice } from "../../util/time-slice.ts";
import { associatedDataSupported, type KeyType } from "../keyring/key-types.ts";
import type { CipherOptions, PaddingScheme } from "../keyring/symmetric.ts";
import { batchItems, itemInt, itemString, throwBatchDecodeErrors } from "./batch.ts";

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
        paddingScheme: itemString(item, i, "padding_scheme", errors),
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

/** The cipher options of one item for a key of `type`, with Vault's per-item messages. */
export function itemOptions(item: CipherItem, index: number, type: KeyType): CipherOptions {
  const opts: CipherOptions = { context: item.decodedContext, nonce: item.decodedNonce };
  if (item.paddingScheme !== "") opts.paddingScheme = parsePaddingScheme(type, item.paddingScheme, index);
  if (item.associatedData !== "") {
    if (!associatedDataSupported(type)) {
      throw userError(`'[${index}].associated_data' provided for non-AEAD cipher suite ${type}`);
    }
    const aad = decodeStdBase64(item.associatedData);
    if (aad === null) {
      throw userError(
        `unable to get associated_data/additional_data from factory[0]: ${base64ErrorMessage(item.associatedData)}`,
      );
    }
    opts.associatedData = aad;
  }
  return opts;
}

function parsePaddingScheme(type: KeyType, raw: string, index: number): PaddingScheme {
  if (!type.startsWith("rsa-")) {
    throw userError(`'[${index}].padding_scheme' invalid: unsupported key type ${type} for padding scheme`);
  }
  if (raw === "oaep" || raw === "pkcs1v15") return raw;
  throw userError(`'[${index}].padding_scheme' invalid: unknown padding scheme ${raw}`);
}
