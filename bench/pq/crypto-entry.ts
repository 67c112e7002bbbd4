/** What the post-quantum and newer-primitive cases measure, bundled by bench/lib/bundle.ts as production runs it. */
export { seal } from "../../src/crypto/aead.ts";
export { cmac, cmacKey } from "../../src/crypto/cmac.ts";
export {
  gcmSivImpl,
  gcmSivSeal,
  nobleGcmSiv,
  opensslGcmSiv,
  opensslHasGcmSiv,
} from "../../src/crypto/gcm-siv.ts";
export { hmac } from "../../src/crypto/hash.ts";
export { mlDsaFromSeed, mlDsaSign, mlDsaVerify, nobleMlDsa } from "../../src/crypto/mldsa.ts";
export { opensslHasMlDsa, opensslHasSlhDsa } from "../../src/crypto/pq-runtime.ts";
export { nobleSlhDsa, slhDsaGenerate, slhDsaSign, slhDsaVerify } from "../../src/crypto/slhdsa.ts";
