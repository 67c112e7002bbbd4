/**
 * go-plugin's automatic mTLS, host side (mtls.go generateCert): a fresh
 * ECDSA P-521 key and a self-signed certificate per plugin process, CN and
 * DNS SAN "localhost", organisation HashiCorp, a CA, usable for client and
 * server auth. The certificate goes to the plugin in PLUGIN_CLIENT_CERT; the
 * plugin's own certificate arrives in the handshake line and is the only root
 * trusted for it.
 */
import { X509Certificate } from "node:crypto";
import { toPem } from "../util/auto-mtls-cert.ts";

export { type AutoMtlsCert, generateAutoMtlsCert } from "../util/auto-mtls-cert.ts";

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
