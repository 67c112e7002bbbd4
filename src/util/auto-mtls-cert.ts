/**
 * go-plugin's automatic mTLS certificate (mtls.go generateCert), made the
 * same way on both sides of the plugin connection: a fresh ECDSA P-521 key
 * and a self-signed certificate per process. Subject O=HashiCorp, CN=localhost
 * (Go's pkix.Name order in DER: O before CN); DNS SAN localhost; a CA (basic
 * constraints critical) with a subject key identifier, as Go adds for CAs; key
 * usages digital signature, key encipherment, key agreement, cert sign
 * (critical); extended usages client and server auth; a random positive
 * 128-bit serial; valid from now-30 s for 262980 hours; signed ECDSA with
 * SHA-512, as Go chooses for a P-521 key. Built with @peculiar/x509 over
 * Node's WebCrypto, not hand-written DER.
 *
 * The private key never leaves its process (PKCS#8 PEM handed to grpc-js).
 */
import "./reflect-polyfill.ts";
import { randomBytes, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export interface AutoMtlsCert {
  /** PEM of the certificate (PLUGIN_CLIENT_CERT on the host side). */
  certPem: string;
  /** The certificate's DER (the handshake line on the plugin side). */
  certDer: Buffer;
  /** PKCS#8 PEM of the private key. */
  keyPem: string;
}

const ALG = { name: "ECDSA", namedCurve: "P-521", hash: "SHA-512" } as const;
/** go-plugin: 262980 hours (30 years). */
const VALIDITY_MS = 262_980 * 3600 * 1000;

export async function generateAutoMtlsCert(): Promise<AutoMtlsCert> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f; // positive, below 2^128 as rand.Int(2^128)
  if (serial[0] === 0) serial[0] = 1; // keep a 16-byte DER integer without a leading zero octet
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString("hex"),
    name: [{ O: ["HashiCorp"] }, { CN: ["localhost"] }],
    notBefore: new Date(now - 30_000),
    notAfter: new Date(now + VALIDITY_MS),
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature |
          x509.KeyUsageFlags.keyEncipherment |
          x509.KeyUsageFlags.keyAgreement |
          x509.KeyUsageFlags.keyCertSign,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([
        x509.ExtendedKeyUsage.clientAuth,
        x509.ExtendedKeyUsage.serverAuth,
      ]),
      new x509.BasicConstraintsExtension(true, undefined, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      new x509.SubjectAlternativeNameExtension([{ type: "dns", value: "localhost" }]),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey));
  const keyPem = toPem("PRIVATE KEY", pkcs8);
  pkcs8.fill(0);
  const certDer = Buffer.from(cert.rawData);
  return { certPem: toPem("CERTIFICATE", certDer), certDer, keyPem };
}

export function toPem(label: string, der: Uint8Array): string {
  const lines =
    Buffer.from(der)
      .toString("base64")
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
