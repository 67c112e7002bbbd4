/**
 * The go-plugin handshake as the host reads it (client.go Start): the
 * plugin's first stdout line is CORE|APP|NETWORK|ADDRESS|PROTOCOL|CERT
 * [|MUX]. The checks and their messages follow go-plugin's.
 */
import type { X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import { CORE_PROTOCOL_VERSION } from "../protocol/constants.ts";
import { serverCertFromHandshake } from "./certs.ts";

export interface Handshake {
  /** The application protocol version the plugin chose (one of the host's). */
  appVersion: number;
  network: "tcp" | "unix";
  address: string;
  protocol: "grpc";
  /** The plugin's auto-mTLS certificate (PEM), the only root trusted for it; null without auto-mTLS. */
  serverCertPem: string | null;
  serverCert: X509Certificate | null;
}

export class HandshakeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HandshakeError";
  }
}

/** A line from the plugin, shortened for an error message (it may be anything the plugin printed). */
function shown(line: string): string {
  return JSON.stringify(line.length > 200 ? `${line.slice(0, 200)}...` : line);
}

export function parseHandshakeLine(
  raw: string,
  opts: { versions: readonly number[]; autoMTLS: boolean },
): Handshake {
  const line = raw.trim();
  const parts = line.split("|");
  if (parts.length < 4) throw new HandshakeError(`Unrecognized remote plugin message: ${shown(line)}`);

  if (!/^\d+$/.test(parts[0]!)) {
    throw new HandshakeError(`error parsing core protocol version: ${shown(parts[0]!)}`);
  }
  if (Number(parts[0]) !== CORE_PROTOCOL_VERSION) {
    throw new HandshakeError(
      `incompatible core API version with plugin. Plugin version: ${parts[0]}, Core version: ${CORE_PROTOCOL_VERSION}`,
    );
  }

  if (!/^\d+$/.test(parts[1]!)) {
    throw new HandshakeError(`Error parsing protocol version ${shown(parts[1]!)}`);
  }
  const appVersion = Number(parts[1]);
  if (!opts.versions.includes(appVersion)) {
    throw new HandshakeError(
      `incompatible API version with plugin. Plugin version: ${appVersion}, Client versions: [${opts.versions.join(" ")}]`,
    );
  }

  const network = parts[2]!;
  const address = parts[3]!;
  if (network === "tcp") {
    const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(address);
    const host = m?.[1] ?? m?.[2];
    const port = Number(m?.[3]);
    if (m === null || host === undefined || port < 1 || port > 65535) {
      throw new HandshakeError(`invalid plugin address ${shown(address)}`);
    }
    if (isIP(host) === 0 && host !== "localhost") {
      throw new HandshakeError(`the plugin address ${shown(address)} is not an IP address`);
    }
  } else if (network === "unix") {
    if (!address.startsWith("/")) throw new HandshakeError(`invalid unix socket path ${shown(address)}`);
  } else {
    throw new HandshakeError(`unknown address type: ${shown(address)}`);
  }

  // go-plugin defaults to net/rpc when the field is missing; Vault allows only gRPC.
  const protocol = parts.length >= 5 ? parts[4]! : "netrpc";
  if (protocol !== "grpc") {
    throw new HandshakeError(`unsupported plugin protocol ${shown(protocol)}. Supported: [grpc]`);
  }

  let serverCertPem: string | null = null;
  let serverCert: X509Certificate | null = null;
  // go-plugin: a field of 50 characters or fewer is unused "extra" data from old servers.
  const certField = parts[5];
  if (certField !== undefined && certField.length > 50) {
    try {
      ({ pem: serverCertPem, cert: serverCert } = serverCertFromHandshake(certField));
    } catch (e) {
      throw new HandshakeError(`error parsing server cert: ${(e as Error).message}`);
    }
  }
  if (opts.autoMTLS && serverCertPem === null) {
    throw new HandshakeError("the plugin sent no server certificate although auto-mTLS is on");
  }

  return { appVersion, network, address, protocol, serverCertPem, serverCert };
}
