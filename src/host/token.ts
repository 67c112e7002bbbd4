/**
 * The dev host's one credential: the root token. It is random (or set by
 * VAULT_DEV_ROOT_TOKEN_ID, as Vault's dev server), printed once at start, and
 * held only as its SHA-256 hash; a presented token is hashed and compared
 * in constant time (src/crypto constantTimeEqual), so the comparison takes the same time whatever
 * the token and wherever it differs. Like Vault's dev server, a new random
 * token is made at every start unless one is set.
 */
import { constantTimeEqual, hash, randomBytes } from "../crypto/hash.ts";

const sha256 = (data: string | Uint8Array): Buffer =>
  hash("sha2-256", typeof data === "string" ? Buffer.from(data, "utf8") : data);

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A Vault-style service token: "hvs." and 24 base62 characters (about 143 bits). */
export function generateRootToken(): string {
  let out = "hvs.";
  while (out.length < 28) {
    for (const b of randomBytes(32)) {
      // 62 * 4 = 248: rejection keeps the characters uniform.
      if (b < 248 && out.length < 28) out += ALPHABET[b % 62];
    }
  }
  return out;
}

export class RootToken {
  private readonly hash: Buffer;
  /** Accessor shown by token lookups: derived from the hash, reveals nothing of the token. */
  readonly accessor: string;

  constructor(token: string) {
    if (token === "") throw new Error("the root token must not be empty");
    this.hash = sha256(token);
    this.accessor = sha256(Buffer.concat([Buffer.from("accessor:"), this.hash]))
      .toString("base64url")
      .slice(0, 24);
  }

  verify(candidate: string | undefined | null): boolean {
    if (candidate === undefined || candidate === null || candidate === "") return false;
    return constantTimeEqual(sha256(candidate), this.hash);
  }
}

/** The token of a request as Vault reads it: X-Vault-Token, else Authorization: Bearer. */
export function requestToken(headers: Record<string, string | string[] | undefined>): string | undefined {
  const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  const vaultToken = first(headers["x-vault-token"]);
  if (vaultToken !== undefined && vaultToken !== "") return vaultToken;
  const auth = first(headers["authorization"]);
  if (auth !== undefined) {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m?.[1] !== undefined) return m[1].trim();
  }
  return undefined;
}
