import { CBC_IV_BYTES, cbcDecrypt, cbcEncrypt, cbcGenerateIv } from "../../crypto/aes-cbc.ts";
import { GCM_SIV_NONCE_BYTES, GCM_SIV_TAG_BYTES, gcmSivOpen, gcmSivSeal } from "../../crypto/gcm-siv.ts";
import { convergentNonce } from "../../crypto/kdf.ts";
import { randomPooled } from "../../crypto/random-pool.ts";
import { internalError, userError } from "../../framework/errors.ts";
import { getKey } from "./derive.ts";
import { isCbc, type KeyType } from "./key-types.ts";
import { convergentVersionOf, type Keyring } from "./keyring.ts";

/**
 * Encryption with the key types beyond Vault CE's AEADs: aes256-gcm-siv (RFC 8452) and
 * aes128/256-cbc (Vault Enterprise's legacy CBC types). Both produce the bytes after `vault:vN:`:
 *
 * - aes256-gcm-siv: nonce (12) || ciphertext || tag (16), as the other AEADs. The nonce is random,
 *   or for a convergent key (v2/v3) the first 12 bytes of HMAC-SHA256(hmac key, plaintext) as
 *   keysutil's convergent v3 derives it for GCM (v3: the 32 bytes after the derived AES key; v2:
 *   the context). A caller nonce (convergent v1) is refused: the scheme never needs one.
 * - aes*-cbc: iv (16) || ciphertext (PKCS#7 padded), so decrypt needs no iv. The iv is the
 *   caller's `iv` (exactly 16 bytes) or one from the CSPRNG. No authentication (SECURITY.md).
 */

export interface RawAesOptions {
  context?: Uint8Array | undefined;
  nonce?: Uint8Array | undefined;
  associatedData?: Uint8Array | undefined;
  iv?: Uint8Array | undefined;
}

const GCM_SIV_KEY_BYTES = 32;

export function isRawAesCipher(type: KeyType): boolean {
  return type === "aes256-gcm-siv" || isCbc(type);
}

function cbcKey(ring: Keyring, version: number): Uint8Array {
  const key = getKey(ring, undefined, version, 0);
  const want = ring.type === "aes128-cbc" ? 16 : 32;
  if (key.length !== want) throw internalError("invalid key length for the key type");
  return key;
}

export function sealRawAes(
  ring: Keyring,
  version: number,
  plaintext: Uint8Array,
  opts: RawAesOptions,
): Uint8Array {
  if (isCbc(ring.type)) {
    if (opts.nonce !== undefined && opts.nonce.length > 0) throw userError("nonce provided when not allowed");
    if (opts.iv !== undefined && opts.iv.length !== CBC_IV_BYTES) {
      throw userError(`invalid iv length: must be ${CBC_IV_BYTES} bytes`);
    }
    const iv = opts.iv ?? cbcGenerateIv();
    return concat(iv, cbcEncrypt(cbcKey(ring, version), iv, plaintext));
  }
  if (opts.nonce !== undefined && opts.nonce.length > 0) throw userError("nonce provided when not allowed");
  const convergentVersion = convergentVersionOf(ring, version);
  const hmacBytes = convergentVersion > 2 ? 32 : 0;
  const key = getKey(ring, opts.context, version, GCM_SIV_KEY_BYTES + hmacBytes);
  if (key.length < GCM_SIV_KEY_BYTES + hmacBytes)
    throw internalError("could not derive key, length too small");
  const encKey = key.subarray(0, GCM_SIV_KEY_BYTES);
  let nonce: Uint8Array;
  if (!ring.convergentEncryption) {
    nonce = randomPooled(GCM_SIV_NONCE_BYTES);
  } else if (convergentVersion === 2 || convergentVersion === 3) {
    const hmacKey = convergentVersion === 3 ? key.subarray(GCM_SIV_KEY_BYTES) : opts.context;
    if (hmacKey === undefined || hmacKey.length === 0) throw internalError("invalid hmac key length of zero");
    nonce = convergentNonce(hmacKey, plaintext);
  } else {
    throw userError(`convergent version ${convergentVersion} is not supported for key type ${ring.type}`);
  }
  return concat(nonce, gcmSivSeal(encKey, nonce, plaintext, opts.associatedData));
}

export function openRawAes(
  ring: Keyring,
  version: number,
  decoded: Uint8Array,
  opts: RawAesOptions,
): Uint8Array {
  if (isCbc(ring.type)) {
    if (decoded.length < 2 * CBC_IV_BYTES) throw userError("invalid ciphertext length");
    try {
      return cbcDecrypt(
        cbcKey(ring, version),
        decoded.subarray(0, CBC_IV_BYTES),
        decoded.subarray(CBC_IV_BYTES),
      );
    } catch {
      // One text for every padding or length failure: no padding oracle detail.
      throw userError("invalid ciphertext: unable to decrypt");
    }
  }
  if (decoded.length < GCM_SIV_NONCE_BYTES + GCM_SIV_TAG_BYTES) throw userError("invalid ciphertext length");
  const key = getKey(ring, opts.context, version, GCM_SIV_KEY_BYTES);
  const encKey = key.subarray(0, GCM_SIV_KEY_BYTES);
  try {
    return gcmSivOpen(
      encKey,
      decoded.subarray(0, GCM_SIV_NONCE_BYTES),
      decoded.subarray(GCM_SIV_NONCE_BYTES),
      opts.associatedData,
    );
  } catch {
    throw userError("cipher: message authentication failed");
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
