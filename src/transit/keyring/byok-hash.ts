import type { HashAlgorithm } from "../../crypto/hash.ts";
import { invalidRequest } from "../../framework/errors.ts";

/** transit parseHashFn: the OAEP hash of a BYOK envelope, any case. */
export function parseHashFn(name: string): HashAlgorithm {
  switch (name.toUpperCase()) {
    case "SHA1":
      return "sha1";
    case "SHA224":
      return "sha2-224";
    case "SHA256":
      return "sha2-256";
    case "SHA384":
      return "sha2-384";
    case "SHA512":
      return "sha2-512";
    default:
      throw invalidRequest(`unknown hash function: ${name}`);
  }
}
