/**
 * The dev host's settings: command-line flags, then environment variables,
 * then defaults. Vault's own dev-server variables keep their meaning
 * (VAULT_DEV_ROOT_TOKEN_ID, VAULT_DEV_LISTEN_ADDRESS, VAULT_LOG_LEVEL); the
 * rest are TRANSIT_DEV_*.
 */
import { isIP } from "node:net";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { parseDurationSeconds } from "../util/duration.ts";
import type { LogLevel } from "../util/logger.ts";

export const DEFAULT_LISTEN_ADDRESS = "127.0.0.1:8200";
/** Vault's http.DefaultMaxRequestSize. */
export const DEFAULT_MAX_REQUEST_SIZE = 32 * 1024 * 1024;
export const DEFAULT_PLUGIN_NAME = "vault-plugin-secrets-transit-ts";

export interface HostConfig {
  host: string;
  port: number;
  /** The root token to use instead of a random one (VAULT_DEV_ROOT_TOKEN_ID). */
  rootTokenId: string | undefined;
  dataDir: string;
  unsealKeyFile: string;
  /** Base64 unseal key from TRANSIT_DEV_UNSEAL_KEY (never a flag: flags show in ps). */
  unsealKey: string | undefined;
  /** Mount paths (without trailing slash) that must exist at start. */
  mounts: string[];
  logLevel: LogLevel;
  /** The plugin executable and its arguments; undefined: the project's own plugin. */
  pluginCommand: string[] | undefined;
  pluginName: string;
  tlsCertFile: string | undefined;
  tlsKeyFile: string | undefined;
  allowNonLoopback: boolean;
  rollbackIntervalSeconds: number;
  maxRequestSize: number;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

interface OptionDoc {
  flag: string;
  env?: string;
  value?: string;
  help: string;
}

const DOCS: OptionDoc[] = [
  {
    flag: "listen-address",
    env: "VAULT_DEV_LISTEN_ADDRESS",
    value: "host:port",
    help: `address to serve Vault's HTTP API on (default ${DEFAULT_LISTEN_ADDRESS}; port 0 picks a free port)`,
  },
  {
    flag: "root-token-id",
    env: "VAULT_DEV_ROOT_TOKEN_ID",
    value: "token",
    help: "root token to accept (default: a new random token at each start, printed once)",
  },
  {
    flag: "data-dir",
    env: "TRANSIT_DEV_DATA_DIR",
    value: "dir",
    help: "directory of the encrypted database and the unseal key (default ./.data)",
  },
  {
    flag: "unseal-key-file",
    env: "TRANSIT_DEV_UNSEAL_KEY_FILE",
    value: "file",
    help: "unseal key file, created 0600 on first start (default <data-dir>/unseal.key)",
  },
  {
    flag: "",
    env: "TRANSIT_DEV_UNSEAL_KEY",
    value: "base64",
    help: "the unseal key itself; wins over the file, which is then neither read nor written",
  },
  {
    flag: "mount",
    env: "TRANSIT_DEV_MOUNTS",
    value: "path",
    help: "transit mount to ensure at start; repeat the flag, or a comma list in the variable (default transit)",
  },
  {
    flag: "log-level",
    env: "VAULT_LOG_LEVEL",
    value: "level",
    help: "trace, debug, info, warn or error (default info)",
  },
  {
    flag: "plugin-command",
    env: "TRANSIT_DEV_PLUGIN_COMMAND",
    value: "cmd",
    help: "plugin executable to launch, with arguments split on spaces or as a JSON array (default: this project's plugin)",
  },
  {
    flag: "plugin-name",
    env: "TRANSIT_DEV_PLUGIN_NAME",
    value: "name",
    help: `registered plugin name; mounts of this type or of type "transit" use the plugin (default ${DEFAULT_PLUGIN_NAME})`,
  },
  {
    flag: "tls-cert-file",
    env: "TRANSIT_DEV_TLS_CERT_FILE",
    value: "file",
    help: "PEM certificate: serve HTTPS (required with a non-loopback address)",
  },
  {
    flag: "tls-key-file",
    env: "TRANSIT_DEV_TLS_KEY_FILE",
    value: "file",
    help: "PEM private key for --tls-cert-file",
  },
  {
    flag: "allow-non-loopback",
    env: "TRANSIT_DEV_ALLOW_NON_LOOPBACK",
    help: "permit a listen address other than loopback (TLS files required)",
  },
  {
    flag: "rollback-interval",
    env: "TRANSIT_DEV_ROLLBACK_INTERVAL",
    value: "duration",
    help: 'period of Vault\'s rollback tick sent to every mount, e.g. "60s" (default 60s; 0 disables)',
  },
  {
    flag: "max-request-size",
    env: "TRANSIT_DEV_MAX_REQUEST_SIZE",
    value: "bytes",
    help: `largest request body accepted; larger ones get 413 (default ${DEFAULT_MAX_REQUEST_SIZE}, as Vault)`,
  },
  { flag: "help", help: "print this help and exit" },
];

export function usage(): string {
  const lines = [
    "Usage: npm start -- [options]     (or: node --import tsx src/host/main.ts [options])",
    "",
    "Starts the dev host: Vault's HTTP API on one machine, with an embedded encrypted store,",
    "serving this project's transit plugin at /v1/transit/ (launched as Vault launches plugins).",
    "",
    "Options (flag, environment variable):",
  ];
  for (const d of DOCS) {
    const flag = d.flag === "" ? "" : `--${d.flag}${d.value !== undefined ? ` <${d.value}>` : ""}`;
    const env = d.env === undefined ? "" : d.env;
    lines.push(`  ${[flag, env].filter((s) => s !== "").join(", ")}`);
    lines.push(`      ${d.help}`);
  }
  return lines.join("\n");
}

const LOG_LEVELS: readonly LogLevel[] = ["trace", "debug", "info", "warn", "error"];

function truthy(v: string | undefined): boolean {
  return v !== undefined && /^(1|true|yes|on)$/i.test(v.trim());
}

export function splitAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(address.trim());
  if (m === null) throw new ConfigError(`listen address ${JSON.stringify(address)} is not host:port`);
  const host = (m[1] ?? m[2])!;
  const port = Number(m[3]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`bad port in ${address}`);
  return { host, port };
}

export function isLoopback(host: string): boolean {
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  if (isIP(host) === 6) return host === "::1" || host === "0:0:0:0:0:0:0:1";
  return false;
}

function splitCommand(text: string): string[] {
  const t = text.trim();
  if (t.startsWith("[")) {
    const parsed: unknown = JSON.parse(t);
    if (!Array.isArray(parsed) || parsed.some((a) => typeof a !== "string") || parsed.length === 0) {
      throw new ConfigError("the plugin command as JSON must be a non-empty array of strings");
    }
    return parsed as string[];
  }
  return t.split(/\s+/).filter((s) => s !== "");
}

function normaliseMount(path: string): string {
  const p = path.trim().replace(/^\/+|\/+$/g, "");
  if (p === "" || p.split("/").some((s) => s === "" || s === "." || s === "..")) {
    throw new ConfigError(`bad mount path ${JSON.stringify(path)}`);
  }
  if (p === "sys" || p.startsWith("sys/") || p === "auth" || p.startsWith("auth/")) {
    throw new ConfigError(`mount path ${JSON.stringify(path)} is reserved`);
  }
  return p;
}

export type ParsedArgs = { help: true } | { help: false; config: HostConfig };

export function parseConfig(
  argv: string[],
  env: Record<string, string | undefined> = process.env,
  cwd = process.cwd(),
): ParsedArgs {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        "listen-address": { type: "string" },
        "root-token-id": { type: "string" },
        "data-dir": { type: "string" },
        "unseal-key-file": { type: "string" },
        mount: { type: "string", multiple: true },
        "log-level": { type: "string" },
        "plugin-command": { type: "string" },
        "plugin-name": { type: "string" },
        "tls-cert-file": { type: "string" },
        "tls-key-file": { type: "string" },
        "allow-non-loopback": { type: "boolean" },
        "rollback-interval": { type: "string" },
        "max-request-size": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    throw new ConfigError(`${(e as Error).message}\n\n${usage()}`);
  }
  if (values["help"] === true) return { help: true };

  const str = (flag: string, envName?: string): string | undefined => {
    const v = values[flag];
    if (typeof v === "string") return v;
    if (envName !== undefined) {
      const e = env[envName];
      if (e !== undefined && e !== "") return e;
    }
    return undefined;
  };

  const { host, port } = splitAddress(
    str("listen-address", "VAULT_DEV_LISTEN_ADDRESS") ?? DEFAULT_LISTEN_ADDRESS,
  );
  const dataDir = resolve(cwd, str("data-dir", "TRANSIT_DEV_DATA_DIR") ?? ".data");
  const unsealKeyFile = resolve(
    cwd,
    str("unseal-key-file", "TRANSIT_DEV_UNSEAL_KEY_FILE") ?? `${dataDir}/unseal.key`,
  );

  let mounts: string[];
  const flagMounts = values["mount"];
  if (Array.isArray(flagMounts) && flagMounts.length > 0) mounts = flagMounts.flatMap((m) => m.split(","));
  else if (env["TRANSIT_DEV_MOUNTS"] !== undefined) mounts = env["TRANSIT_DEV_MOUNTS"].split(",");
  else mounts = ["transit"];
  mounts = [...new Set(mounts.filter((m) => m.trim() !== "").map(normaliseMount))];

  const logLevel = (str("log-level", "VAULT_LOG_LEVEL") ?? "info").toLowerCase() as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`unknown log level ${JSON.stringify(logLevel)}`);

  const pluginCommandText = str("plugin-command", "TRANSIT_DEV_PLUGIN_COMMAND");
  const pluginCommand = pluginCommandText === undefined ? undefined : splitCommand(pluginCommandText);

  const tlsCertFile = str("tls-cert-file", "TRANSIT_DEV_TLS_CERT_FILE");
  const tlsKeyFile = str("tls-key-file", "TRANSIT_DEV_TLS_KEY_FILE");
  if ((tlsCertFile === undefined) !== (tlsKeyFile === undefined)) {
    throw new ConfigError("--tls-cert-file and --tls-key-file go together");
  }
  const allowNonLoopback =
    values["allow-non-loopback"] === true || truthy(env["TRANSIT_DEV_ALLOW_NON_LOOPBACK"]);
  if (!isLoopback(host)) {
    if (!allowNonLoopback) {
      throw new ConfigError(
        `refusing to listen on ${host}: it is not a loopback address. The dev host binds to loopback unless ` +
          "--allow-non-loopback is given, and then only with TLS (--tls-cert-file and --tls-key-file).",
      );
    }
    if (tlsCertFile === undefined) {
      throw new ConfigError(
        `listening on the non-loopback address ${host} requires TLS: --tls-cert-file and --tls-key-file`,
      );
    }
  }

  let rollbackIntervalSeconds: number;
  try {
    rollbackIntervalSeconds = parseDurationSeconds(
      str("rollback-interval", "TRANSIT_DEV_ROLLBACK_INTERVAL") ?? "60s",
    );
  } catch (e) {
    throw new ConfigError(`bad rollback interval: ${(e as Error).message}`);
  }
  if (rollbackIntervalSeconds < 0) throw new ConfigError("the rollback interval must not be negative");

  const maxText = str("max-request-size", "TRANSIT_DEV_MAX_REQUEST_SIZE");
  const maxRequestSize = maxText === undefined ? DEFAULT_MAX_REQUEST_SIZE : Number(maxText);
  if (!Number.isSafeInteger(maxRequestSize) || maxRequestSize <= 0) {
    throw new ConfigError(`bad max request size ${JSON.stringify(maxText)}`);
  }

  return {
    help: false,
    config: {
      host,
      port,
      rootTokenId: str("root-token-id", "VAULT_DEV_ROOT_TOKEN_ID"),
      dataDir,
      unsealKeyFile,
      unsealKey: env["TRANSIT_DEV_UNSEAL_KEY"] === "" ? undefined : env["TRANSIT_DEV_UNSEAL_KEY"],
      mounts,
      logLevel,
      pluginCommand,
      pluginName: str("plugin-name", "TRANSIT_DEV_PLUGIN_NAME") ?? DEFAULT_PLUGIN_NAME,
      tlsCertFile,
      tlsKeyFile,
      allowNonLoopback,
      rollbackIntervalSeconds,
      maxRequestSize,
    },
  };
}
