/**
 * AES-CMAC (NIST SP 800-38B, the same function as RFC 4493 for AES-128) with 16-, 24- or 32-byte
 * keys and an optional truncated tag (the leftmost mac_length bytes, SP 800-38B section 6.2 step 7).
 *
 * Implementation: node:crypto's AES in CBC mode with a zero IV and no padding, on every Node: CMAC is
 * CBC-MAC over the message whose last block is first XORed with a subkey, so one cipher pass gives
 * the tag. node:crypto has no CMAC API (OpenSSL's EVP_MAC "CMAC" is not exposed), so the subkey
 * derivation (section 6.1: L = AES_K(0^128), K1 = dbl(L), K2 = dbl(K1)) is done here. Tests check it
 * against SP 800-38B's examples, Wycheproof, @noble/ciphers' cmac and the `openssl mac` CLI.
 *
 * Guarantees: `cmacVerify` compares in constant time for tags of equal length.
 */

import { createCipheriv, timingSafeEqual } from "node:crypto";
import { type CbcCipherName, cbcCipherName } from "./aes-cbc.ts";

export const CMAC_BLOCK = 16;
const ZERO_IV = Buffer.alloc(CMAC_BLOCK);

/** A key with its subkeys derived once. */
export interface CmacKey {
  readonly cipher: CbcCipherName;
  readonly key: Buffer;
  readonly k1: Buffer;
  readonly k2: Buffer;
}

/** dbl() of SP 800-38B section 6.1: shift left by one bit, XOR 0x87 into the last byte on carry. */
function dbl(block: Buffer): Buffer {
  const out = Buffer.alloc(CMAC_BLOCK);
  for (let i = 0; i < CMAC_BLOCK; i++) {
    out[i] = (((block[i] as number) << 1) | ((block[i + 1] ?? 0) >>> 7)) & 0xff;
  }
  // Constant time in the key: the mask is 0 or 0x87 without a branch.
  out[CMAC_BLOCK - 1] = (out[CMAC_BLOCK - 1] as number) ^ (0x87 & -((block[0] as number) >>> 7));
  return out;
}

function cbcLastBlock(cipher: CmacKey["cipher"], key: Buffer, parts: readonly Uint8Array[]): Buffer {
  const c = createCipheriv(cipher, key, ZERO_IV).setAutoPadding(false);
  let last: Buffer = Buffer.alloc(0);
  for (const part of parts) {
    if (part.length > 0) last = c.update(part);
  }
  c.final();
  return last.subarray(last.length - CMAC_BLOCK);
}

export function cmacKey(key: Uint8Array): CmacKey {
  const cipher = cbcCipherName(key, "CMAC");
  const k = Buffer.from(key);
  const l = cbcLastBlock(cipher, k, [ZERO_IV]);
  const k1 = dbl(l);
  return { cipher, key: k, k1, k2: dbl(k1) };
}

/** Valid tag lengths: 1 to 16 bytes; 0 means the full 16. */
export function checkMacLength(macLength: number): number {
  if (!Number.isInteger(macLength) || macLength < 0 || macLength > CMAC_BLOCK) {
    throw new Error(`mac_length must be between 0 and ${CMAC_BLOCK}`);
  }
  return macLength === 0 ? CMAC_BLOCK : macLength;
}

/** The CMAC of `message`, truncated to `macLength` bytes (0 or absent: 16). */
export function cmac(key: CmacKey | Uint8Array, message: Uint8Array, macLength = 0): Uint8Array {
  const k = key instanceof Uint8Array ? cmacKey(key) : key;
  const tagLength = checkMacLength(macLength);
  const complete = message.length > 0 && message.length % CMAC_BLOCK === 0;
  const lastStart =
    message.length === 0
      ? 0
      : complete
        ? message.length - CMAC_BLOCK
        : message.length - (message.length % CMAC_BLOCK);
  const last = Buffer.alloc(CMAC_BLOCK);
  last.set(message.subarray(lastStart));
  if (!complete) last[message.length - lastStart] = 0x80;
  const sub = complete ? k.k1 : k.k2;
  for (let i = 0; i < CMAC_BLOCK; i++) last[i] = (last[i] as number) ^ (sub[i] as number);
  const tag = cbcLastBlock(k.cipher, k.key, [message.subarray(0, lastStart), last]);
  return new Uint8Array(tag.subarray(0, tagLength));
}

/** Recomputes the tag at the given length and compares in constant time. */
export function cmacVerify(
  key: CmacKey | Uint8Array,
  message: Uint8Array,
  tag: Uint8Array,
  macLength = 0,
): boolean {
  const expected = cmac(key, message, macLength);
  return expected.length === tag.length && timingSafeEqual(expected, tag);
}
