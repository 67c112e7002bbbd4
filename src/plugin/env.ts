/**
 * What Vault (through go-plugin and sdk/helper/pluginutil) tells the plugin in
 * its environment, checked once at start.
 *
 * TLS. Vault's pluginutil sets VAULT_PLUGIN_AUTOMTLS_ENABLED (and OpenBao
 * BAO_PLUGIN_AUTOMTLS_ENABLED) to say which TLS a plugin gets. With "true"
 * (and in metadata mode) a Go plugin's api.VaultPluginTLSProvider returns no
 * TLS config, so go-plugin's automatic mTLS applies: the host's certificate
 * arrives in PLUGIN_CLIENT_CERT and the plugin makes its own. With "false"
 * older Vault versions hand the plugin a response-wrapping token
 * (VAULT_UNWRAP_TOKEN, VAULT_API_ADDR) that it unwraps through Vault's API to
 * obtain a certificate. We implement only automatic mTLS: without
 * PLUGIN_CLIENT_CERT the plugin refuses to start (go-plugin alone would serve
 * plain-text gRPC), because the broker carries the engine's keyrings.
 */

import { APP_PROTOCOL_VERSIONS } from "../protocol/constants.ts";

/** App protocol versions we serve, as Vault's ServeMultiplex (see src/protocol/constants.ts). */
const SUPPORTED_VERSIONS = APP_PROTOCOL_VERSIONS;

export interface PluginEnv {
  appVersion: number;
  minPort: number;
  maxPort: number;
  clientCertPem: string;
  metadataMode: boolean;
}

export class EnvError extends Error {}

/** Set to "vault" or "openbao" to name the host engine when its environment does not (a dev host posing as OpenBao). */
export const HOST_ENGINE_ENV = "TRANSIT_HOST_ENGINE";

/**
 * Which engine started the plugin, for the numbering of the backups it
 * writes: OpenBao's pluginutil (sdk/helper/pluginutil/env.go, run_config.go)
 * sets BAO_VERSION and BAO_PLUGIN_* (newer releases the VAULT_* copies as
 * well), Vault only VAULT_*. Anything else, the dev host included, is Vault.
 */
export function hostEngineFromEnv(env: NodeJS.ProcessEnv): "vault" | "openbao" {
  const named = env[HOST_ENGINE_ENV];
  if (named === "vault" || named === "openbao") return named;
  const bao = ["BAO_VERSION", "BAO_PLUGIN_AUTOMTLS_ENABLED", "BAO_PLUGIN_METADATA_MODE"];
  return bao.some((k) => env[k] !== undefined) ? "openbao" : "vault";
}

/** go-plugin protocolVersion(): the highest version both sides accept; with no match, our lowest (the host then reports it). */
export function negotiateVersion(hostList: string | undefined): number {
  const host = new Set<number>();
  for (const s of (hostList ?? "").split(",")) {
    const n = Number.parseInt(s.trim(), 10);
    if (Number.isInteger(n) && /^\s*\d+\s*$/.test(s)) host.add(n);
  }
  for (const v of SUPPORTED_VERSIONS) if (host.has(v)) return v;
  return SUPPORTED_VERSIONS[SUPPORTED_VERSIONS.length - 1]!;
}

function port(name: string, raw: string | undefined): number {
  if (raw === undefined || raw === "") return 0;
  if (!/^\d+$/.test(raw.trim()))
    throw new EnvError(`couldn't get value from ${name}: ${JSON.stringify(raw)}`);
  const n = Number.parseInt(raw, 10);
  if (n > 65535) throw new EnvError(`${name} value of ${n} is not a TCP port`);
  return n;
}

export function readPluginEnv(env: NodeJS.ProcessEnv): PluginEnv {
  const minPort = port("PLUGIN_MIN_PORT", env["PLUGIN_MIN_PORT"]);
  const maxPort = port("PLUGIN_MAX_PORT", env["PLUGIN_MAX_PORT"]);
  if (minPort > maxPort) {
    throw new EnvError(
      `PLUGIN_MIN_PORT value of ${minPort} is greater than PLUGIN_MAX_PORT value of ${maxPort}`,
    );
  }
  const clientCertPem = env["PLUGIN_CLIENT_CERT"] ?? "";
  if (clientCertPem === "") {
    const autoMtls = env["VAULT_PLUGIN_AUTOMTLS_ENABLED"] ?? env["BAO_PLUGIN_AUTOMTLS_ENABLED"];
    const why =
      autoMtls === "false"
        ? "Vault started it with VAULT_PLUGIN_AUTOMTLS_ENABLED=false (the unwrap-token TLS of older Vault versions is not supported)"
        : "PLUGIN_CLIENT_CERT is not set";
    throw new EnvError(
      `this plugin only runs with go-plugin's automatic mutual TLS, and ${why}; refusing to serve without client certificates`,
    );
  }
  const metadataMode = (env["VAULT_PLUGIN_METADATA_MODE"] ?? env["BAO_PLUGIN_METADATA_MODE"]) === "true";
  return {
    appVersion: negotiateVersion(env["PLUGIN_PROTOCOL_VERSIONS"]),
    minPort,
    maxPort,
    clientCertPem,
    metadataMode,
  };
}
