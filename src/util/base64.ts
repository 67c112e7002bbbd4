/**
 * Base64 with Go's encoding/base64 StdEncoding rules: the standard alphabet,
 * padding required, CR and LF ignored, anything else rejected. Node's Buffer
 * decoder silently skips invalid characters, which would let malformed
 * ciphertexts or plaintexts through, so every decode from a caller goes here.
 */
const STD_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * From this length on, validity is checked by decoding and re-encoding
 * (native, about 5 characters per ns) instead of the regular expression
 * (about 0.15 per ns: 11 ms for a 1 MiB plaintext, twenty times the AES-GCM).
 * The two cost the same at about 64 characters (a 48-byte input).
 */
const NATIVE_CHECK_FROM = 64;

export function decodeStdBase64(input: string): Buffer | null {
  const s = input.includes("\n") || input.includes("\r") ? input.replace(/[\r\n]/g, "") : input;
  if (s.length % 4 !== 0) return null;
  if (s.length >= NATIVE_CHECK_FROM) {
    // Node's decoder is lenient (skips unknown characters, takes the URL alphabet), but
    // when its output encodes back to exactly the input, the input is canonical standard
    // base64 with padding: valid, and this is its decoding. Anything else (invalid input,
    // or non-zero padding bits, which Go accepts) takes the exact check below.
    const out = Buffer.from(s, "base64");
    if (out.toString("base64") === s) return out;
  }
  if (!STD_BASE64.test(s)) return null;
  const pad = s.endsWith("==") ? 2 : s.endsWith("=") ? 1 : 0;
  // "=" may only appear as trailing padding, already enforced by the regex.
  const out = Buffer.from(s, "base64");
  if (out.length !== (s.length / 4) * 3 - pad) return null;
  return out;
}

export function encodeStdBase64(data: Uint8Array): string {
  // A Buffer (what the AEAD returns) is encoded as it is, without a second view made of it.
  if (Buffer.isBuffer(data)) return data.toString("base64");
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64");
}

/** RawURLEncoding (no padding, URL alphabet), as JWS uses. */
export function encodeRawUrlBase64(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64url");
}

const RAW_URL_BASE64 = /^[A-Za-z0-9_-]*$/;

export function decodeRawUrlBase64(input: string): Buffer | null {
  if (!RAW_URL_BASE64.test(input) || input.length % 4 === 1) return null;
  return Buffer.from(input, "base64url");
}

/**
 * Go's error text for a failed StdEncoding decode: "illegal base64 data at
 * input byte N", N being where decoding stopped. Call only after
 * decodeStdBase64 returned null.
 */
export function base64ErrorMessage(input: string): string {
  const s = input.replace(/[\r\n]/g, "");
  let i = 0;
  while (i < s.length && /[A-Za-z0-9+/]/.test(s[i] ?? "")) i++;
  if (i === s.length) {
    // Ran out of input mid-quantum: Go reports the start of the incomplete quantum.
    return `illegal base64 data at input byte ${s.length - (s.length % 4)}`;
  }
  // Padding in the wrong place, or a character outside the alphabet.
  if (s[i] === "=") {
    const quantumPos = i % 4;
    if (quantumPos < 2) return `illegal base64 data at input byte ${i}`;
    const expectedEnd = i - quantumPos + 4;
    for (let j = i; j < expectedEnd; j++) if (s[j] !== "=") return `illegal base64 data at input byte ${j}`;
    return `illegal base64 data at input byte ${expectedEnd}`;
  }
  return `illegal base64 data at input byte ${i}`;
}
