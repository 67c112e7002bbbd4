/**
 * The plugin side of go-plugin's automatic mTLS: its certificate is made per
 * start by ../util/auto-mtls-cert.ts (the same recipe as the host's); here
 * are the handshake line's encoding and the check of PLUGIN_CLIENT_CERT.
 */
import { X509Certificate } from "node:crypto";

export {
  type AutoMtlsCert as ServerCert,
  generateAutoMtlsCert as generateServerCert,
} from "../util/auto-mtls-cert.ts";

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
