/**
 * Hybrid (composite) signatures: ML-DSA together with ECDSA P-256/384/521 or Ed25519, laid out as
 * draft-ietf-lamps-pq-composite-sigs (editor's copy of 2026-04-28, the "CompositeAlgorithmSignatures2025"
 * prefix revision; Vault Enterprise's documentation names the hybrid type but no wire layout):
 *
 *   M'        = Prefix || Label || len(ctx) || ctx || PH(M)
 *   mldsaSig  = ML-DSA.Sign(mldsaSK, M', ctx = Label)
 *   tradSig   = Trad.Sign(tradSK, M')            (ECDSA: DER Ecdsa-Sig-Value; Ed25519: pure, 64 bytes)
 *   signature = mldsaSig || tradSig              (ML-DSA's size is fixed per set, so the split is too)
 *   publicKey = mldsaPK || tradPK                (ECDSA: uncompressed SEC1 point; Ed25519: 32 bytes)
 *
 * The draft registers seven of the twelve pairs Vault allows (44+P256, 44+Ed25519, 65+P256, 65+P384,
 * 65+Ed25519, 87+P384, 87+P521), with their labels and pre-hash (SHA-256 for 44+P256, SHA-512 for the
 * rest). The other five (44+P384, 44+P521, 65+P521, 87+P256, 87+Ed25519) use the same construction with
 * a label built the same way and PH = SHA-512; `hybridScheme(...).registered` says which is which.
 * ECDSA hashes M' with SHA-256/384/512 for P-256/384/521, as the draft's ecdsa-with-SHAxxx entries.
 *
 * Guarantees: verification succeeds only if both component signatures verify over the same M'; a
 * signature with one valid half and one altered half fails. Malformed keys or signatures return false.
 *
 * Where it runs: ML-DSA per mldsa.ts (OpenSSL on Node 26, noble on Node 20); ECDSA and Ed25519 on
 * node:crypto on every Node.
 */

import {
  createECDH,
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
} from "node:crypto";
import { type MlDsaParameterSet, type MlDsaPrivateKey, mlDsaImpl, mlDsaSign, mlDsaSizes } from "./mldsa.ts";

export const HYBRID_EC_TYPES = ["ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "ed25519"] as const;
export type HybridEcType = (typeof HYBRID_EC_TYPES)[number];

export const COMPOSITE_PREFIX = new TextEncoder().encode("CompositeAlgorithmSignatures2025");

interface EcInfo {
  readonly labelPart: string;
  readonly curve: string | undefined;
  readonly jwkCrv: string;
  readonly hash: string | null;
  readonly scalarBytes: number;
}

const EC: Record<HybridEcType, EcInfo> = {
  "ecdsa-p256": {
    labelPart: "ECDSA-P256",
    curve: "prime256v1",
    jwkCrv: "P-256",
    hash: "sha256",
    scalarBytes: 32,
  },
  "ecdsa-p384": {
    labelPart: "ECDSA-P384",
    curve: "secp384r1",
    jwkCrv: "P-384",
    hash: "sha384",
    scalarBytes: 48,
  },
  "ecdsa-p521": {
    labelPart: "ECDSA-P521",
    curve: "secp521r1",
    jwkCrv: "P-521",
    hash: "sha512",
    scalarBytes: 66,
  },
  ed25519: { labelPart: "Ed25519", curve: undefined, jwkCrv: "Ed25519", hash: null, scalarBytes: 32 },
};

const REGISTERED = new Set([
  "44/ecdsa-p256",
  "44/ed25519",
  "65/ecdsa-p256",
  "65/ecdsa-p384",
  "65/ed25519",
  "87/ecdsa-p384",
  "87/ecdsa-p521",
]);

export interface HybridScheme {
  readonly set: MlDsaParameterSet;
  readonly ec: HybridEcType;
  readonly label: Uint8Array;
  readonly labelText: string;
  readonly preHash: "sha256" | "sha512";
  /** True for the pairs draft-ietf-lamps-pq-composite-sigs registers. */
  readonly registered: boolean;
}

export function isHybridEcType(value: unknown): value is HybridEcType {
  return typeof value === "string" && Object.hasOwn(EC, value);
}

export function hybridScheme(set: MlDsaParameterSet, ec: HybridEcType): HybridScheme {
  mlDsaSizes(set);
  if (!isHybridEcType(ec)) throw new Error(`invalid hybrid EC key type ${String(ec)}`);
  const preHash = set === "44" && ec === "ecdsa-p256" ? "sha256" : "sha512";
  const labelText = `COMPSIG-MLDSA${set}-${EC[ec].labelPart}-${preHash.toUpperCase()}`;
  return {
    set,
    ec,
    label: new TextEncoder().encode(labelText),
    labelText,
    preHash,
    registered: REGISTERED.has(`${set}/${ec}`),
  };
}

/** M' = Prefix || Label || len(ctx) || ctx || PH(M). */
export function compositeMessage(
  scheme: HybridScheme,
  message: Uint8Array,
  context?: Uint8Array,
): Uint8Array {
  const ctx = context ?? new Uint8Array(0);
  if (ctx.length > 255) throw new Error("hybrid signature context must be at most 255 bytes");
  const ph = createHash(scheme.preHash).update(message).digest();
  const out = new Uint8Array(COMPOSITE_PREFIX.length + scheme.label.length + 1 + ctx.length + ph.length);
  let at = 0;
  for (const part of [COMPOSITE_PREFIX, scheme.label, Uint8Array.of(ctx.length), ctx, ph]) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function b64u(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64url");
}

/** The EC public key as the composite encodes it, from the private key (ECDSA scalar or Ed25519 seed). */
export function hybridEcPublicKey(ec: HybridEcType, privateKey: Uint8Array): Uint8Array {
  const info = EC[ec];
  if (privateKey.length !== info.scalarBytes)
    throw new Error(`${ec} private key must be ${info.scalarBytes} bytes`);
  if (info.curve === undefined) {
    const jwk = createPublicKey(
      createPrivateKey({
        key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), privateKey]),
        format: "der",
        type: "pkcs8",
      }),
    ).export({ format: "jwk" });
    return new Uint8Array(Buffer.from(jwk.x as string, "base64url"));
  }
  const ecdh = createECDH(info.curve);
  ecdh.setPrivateKey(privateKey);
  return new Uint8Array(ecdh.getPublicKey());
}

function ecPrivateKeyObject(ec: HybridEcType, privateKey: Uint8Array): KeyObject {
  const info = EC[ec];
  const pub = hybridEcPublicKey(ec, privateKey);
  if (info.curve === undefined) {
    return createPrivateKey({
      key: { kty: "OKP", crv: "Ed25519", d: b64u(privateKey), x: b64u(pub) },
      format: "jwk",
    });
  }
  const n = info.scalarBytes;
  return createPrivateKey({
    key: {
      kty: "EC",
      crv: info.jwkCrv,
      d: b64u(privateKey),
      x: b64u(pub.subarray(1, 1 + n)),
      y: b64u(pub.subarray(1 + n)),
    },
    format: "jwk",
  });
}

function ecPublicKeyObject(ec: HybridEcType, publicKey: Uint8Array): KeyObject {
  const info = EC[ec];
  if (info.curve === undefined) {
    if (publicKey.length !== 32) throw new Error("bad Ed25519 public key");
    return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: b64u(publicKey) }, format: "jwk" });
  }
  const n = info.scalarBytes;
  if (publicKey.length !== 1 + 2 * n || publicKey[0] !== 4) throw new Error("bad EC public key");
  return createPublicKey({
    key: {
      kty: "EC",
      crv: info.jwkCrv,
      x: b64u(publicKey.subarray(1, 1 + n)),
      y: b64u(publicKey.subarray(1 + n)),
    },
    format: "jwk",
  });
}

/** mldsaPK || tradPK. */
export function hybridPublicKey(
  scheme: HybridScheme,
  mldsa: MlDsaPrivateKey,
  ecPrivateKey: Uint8Array,
): Uint8Array {
  if (mldsa.set !== scheme.set) throw new Error("ML-DSA key does not match the hybrid scheme");
  const ecPub = hybridEcPublicKey(scheme.ec, ecPrivateKey);
  const out = new Uint8Array(mldsa.publicKey.length + ecPub.length);
  out.set(mldsa.publicKey);
  out.set(ecPub, mldsa.publicKey.length);
  return out;
}

export function hybridSign(
  scheme: HybridScheme,
  mldsa: MlDsaPrivateKey,
  ecPrivateKey: Uint8Array,
  message: Uint8Array,
  context?: Uint8Array,
): Uint8Array {
  if (mldsa.set !== scheme.set) throw new Error("ML-DSA key does not match the hybrid scheme");
  const mPrime = compositeMessage(scheme, message, context);
  const mldsaSig = mlDsaSign(mldsa, mPrime, { context: scheme.label });
  const tradSig = nodeSign(EC[scheme.ec].hash, mPrime, ecPrivateKeyObject(scheme.ec, ecPrivateKey));
  const out = new Uint8Array(mldsaSig.length + tradSig.length);
  out.set(mldsaSig);
  out.set(tradSig, mldsaSig.length);
  return out;
}

export function hybridVerify(
  scheme: HybridScheme,
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
  context?: Uint8Array,
): boolean {
  const sizes = mlDsaSizes(scheme.set);
  if (publicKey.length <= sizes.publicKey || signature.length <= sizes.signature) return false;
  const mPrime = compositeMessage(scheme, message, context);
  const mldsaOk = mlDsaImpl().verify(
    scheme.set,
    publicKey.subarray(0, sizes.publicKey),
    mPrime,
    signature.subarray(0, sizes.signature),
    scheme.label,
  );
  let tradOk = false;
  try {
    const key = ecPublicKeyObject(scheme.ec, publicKey.subarray(sizes.publicKey));
    tradOk = nodeVerify(EC[scheme.ec].hash, mPrime, key, signature.subarray(sizes.signature));
  } catch {
    tradOk = false;
  }
  return mldsaOk && tradOk;
}
