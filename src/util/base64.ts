/**
 * Base64 with Go's encoding/base64 StdEncoding rules: the standard alphabet,
 * padding required, CR and LF ignored, anything else rejected. Node's Buffer
 * decoder silently skips invalid characters, which would let malformed
 * ciphertexts or plaintexts through, so every decode from a caller goes here.
 */
const STD_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function decodeStdBase64(input: string): Buffer | null {
  const s = input.includes("\n") || input.includes("\r") ? input.replace(/[\r\n]/g, "") : input;
  if (s.length % 4 !== 0 || !STD_BASE64.test(s)) return null;
  const pad = s.endsWith("==") ? 2 : s.endsWith("=") ? 1 : 0;
  // "=" may only appear as trailing padding, already enforced by the regex.
  const out = Buffer.from(s, "base64");
  if (out.length !== (s.length / 4) * 3 - pad) return null;
  return out;
}

export function encodeStdBase64(data: Uint8Array): string {
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
