/**
 * go-plugin's automatic mTLS, host side (mtls.go generateCert): a fresh
 * ECDSA P-521 key and a self-signed certificate per plugin process, CN and
 * DNS SAN "localhost", organisation HashiCorp, a CA, usable for client and
 * server auth. The certificate goes to the plugin in PLUGIN_CLIENT_CERT; the
 * plugin's own certificate arrives in the handshake line and is the only root
 * trusted for it.
 */
import "./reflect-polyfill.ts";
import { randomBytes, webcrypto, X509Certificate } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export interface AutoMtlsCert {
  /** PEM of the certificate (what PLUGIN_CLIENT_CERT carries). */
  certPem: string;
  /** PKCS#8 PEM of the private key; never leaves the host process. */
  keyPem: string;
}

const ALG = { name: "ECDSA", namedCurve: "P-521", hash: "SHA-512" } as const;
/** go-plugin: 262980 hours (30 years). */
const VALIDITY_MS = 262_980 * 3600 * 1000;

export async function generateAutoMtlsCert(): Promise<AutoMtlsCert> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f; // a positive 128-bit serial, as rand.Int(2^128)
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString("hex"),
    name: [{ CN: ["localhost"] }, { O: ["HashiCorp"] }],
    notBefore: new Date(now - 30_000),
    notAfter: new Date(now + VALIDITY_MS),
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
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
      new x509.SubjectAlternativeNameExtension([{ type: "dns", value: "localhost" }]),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey));
  const keyPem = toPem("PRIVATE KEY", pkcs8);
  pkcs8.fill(0);
  return { certPem: cert.toString("pem"), keyPem };
}

export function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString("base64");
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/**
 * The plugin's certificate from the handshake line (go-plugin loadServerCert:
 * DER in base64 standard alphabet without padding), as PEM, after checking
 * that it parses and names localhost (the server name the host dials).
 */
export function serverCertFromHandshake(field: string): { pem: string; cert: X509Certificate } {
  if (!/^[A-Za-z0-9+/]+$/.test(field)) {
    throw new Error("the plugin's certificate is not base64 (standard alphabet, no padding)");
  }
  const der = Buffer.from(field, "base64");
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch (e) {
    throw new Error(`the plugin's certificate does not parse: ${(e as Error).message}`);
  }
  if (cert.checkHost("localhost") === undefined) {
    throw new Error("the plugin's certificate is not valid for localhost");
  }
  return { pem: toPem("CERTIFICATE", der), cert };
}
