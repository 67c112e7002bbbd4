/**
 * go-plugin's automatic mTLS, plugin side (go-plugin mtls.go generateCert and
 * server.go): a fresh ECDSA P-521 key and a self-signed certificate for every
 * start, made with @peculiar/x509 over Node's WebCrypto. Subject O=HashiCorp,
 * CN=localhost; DNS SAN localhost; a CA (basic constraints critical); key
 * usages digital signature, key encipherment, key agreement, cert sign
 * (critical); extended usages client and server auth; serial a random
 * positive 128-bit number; valid from now-30 s for 262980 hours; signed
 * ECDSA with SHA-512, as Go chooses for a P-521 key.
 *
 * The private key stays in this process (PKCS#8 PEM handed to grpc-js). The
 * certificate's DER goes to the host in the handshake line.
 */
import "./reflect-polyfill.ts";
import { randomBytes, webcrypto, X509Certificate } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export interface ServerCert {
  certPem: string;
  /** The certificate's DER, for the handshake line. */
  certDer: Buffer;
  keyPem: string;
}

const ALG = { name: "ECDSA", namedCurve: "P-521", hash: "SHA-512" } as const;
/** go-plugin: 262980 hours (30 years). */
const VALIDITY_MS = 262_980 * 3600 * 1000;

export async function generateServerCert(): Promise<ServerCert> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f; // positive, below 2^128 as rand.Int(2^128)
  if (serial[0] === 0) serial[0] = 1; // keep a 16-byte DER integer without a leading zero octet
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString("hex"),
    // Go's pkix.Name order in DER: O before CN.
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

/** base64 standard alphabet without padding (Go's base64.RawStdEncoding). */
export function rawStdBase64(der: Uint8Array): string {
  return Buffer.from(der).toString("base64").replace(/=+$/, "");
}

/**
 * Checks PLUGIN_CLIENT_CERT: one or more PEM certificates that parse. Returns
 * the PEM text grpc-js gets as its only trusted roots, or an error message.
 */
export function parseClientCert(pem: string): { pem: string } | { error: string } {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (blocks === null || blocks.length === 0) return { error: "PLUGIN_CLIENT_CERT holds no PEM certificate" };
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch {
      return { error: "PLUGIN_CLIENT_CERT holds a certificate that does not parse" };
    }
  }
  return { pem: `${blocks.join("\n")}\n` };
}
