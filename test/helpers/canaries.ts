/**
 * Secrets that tests push through the engine, the plugin and the dev host.
 * The suite's output (every log line, error and stack trace) is scanned for
 * them in every encoding a leak could take (scripts/scan-secrets.ts).
 */
export const CANARY_PLAINTEXT = "CANARY-PLAINTEXT-do-not-log-8f41c2";
export const CANARY_PLAINTEXT_2 = "CANARY-SECOND-PLAINTEXT-77e0a9";
/** A fixed 32-byte key planted in tests (bytes 0xC0..0xDF). */
export const CANARY_KEY = Uint8Array.from({ length: 32 }, (_, i) => 0xc0 + i);

export const ALL_CANARIES: Uint8Array[] = [
  Buffer.from(CANARY_PLAINTEXT),
  Buffer.from(CANARY_PLAINTEXT_2),
  CANARY_KEY,
];
