/**
 * Starting the plugin executable as Vault does (go-plugin client.go Start,
 * Vault's pluginutil run_config.go): Vault's environment, stdin a pipe the
 * host keeps open (the plugin exits when it closes), the one handshake line
 * read from stdout within the start timeout, stderr relayed into the log.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { basename } from "node:path";
import { createInterface } from "node:readline";
import { MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE } from "../protocol/constants.ts";
import type { Logger } from "../util/logger.ts";
import { type Handshake, HandshakeError, parseHandshakeLine } from "./handshake.ts";
import { PluginLogRelay } from "./plugin-log.ts";

/** go-plugin's defaults for the port range and the start timeout. */
export const DEFAULT_MIN_PORT = 10000;
export const DEFAULT_MAX_PORT = 25000;
export const DEFAULT_START_TIMEOUT_MS = 60_000;

/** Host variables a plugin has no business seeing (Vault passes its environment; ours holds secrets). */
const WITHHELD_ENV = new Set([
  "TRANSIT_DEV_UNSEAL_KEY",
  "VAULT_DEV_ROOT_TOKEN_ID",
  "VAULT_TOKEN",
  "PLUGIN_CLIENT_CERT",
  "PLUGIN_PROTOCOL_VERSIONS",
  "PLUGIN_MIN_PORT",
  "PLUGIN_MAX_PORT",
  "PLUGIN_MULTIPLEX_GRPC",
  "PLUGIN_UNIX_SOCKET_DIR",
  "VAULT_UNWRAP_TOKEN",
]);

export interface ExitStatus {
  code: number | null;
  signal: string | null;
}

export interface LaunchOptions {
  /** Executable and arguments. */
  command: string[];
  /** App protocol versions offered (PLUGIN_PROTOCOL_VERSIONS). */
  versions: readonly number[];
  /** PEM of the host's auto-mTLS client certificate (PLUGIN_CLIENT_CERT). */
  clientCertPem: string;
  vaultVersion: string;
  logger: Logger;
  startTimeoutMs?: number;
  minPort?: number;
  maxPort?: number;
  /** The environment the plugin inherits before Vault's variables (default: the host's, minus secrets). */
  baseEnv?: Record<string, string | undefined>;
}

export interface PluginProcess {
  readonly child: ChildProcess;
  readonly pid: number | undefined;
  readonly handshake: Handshake;
  readonly exited: Promise<ExitStatus>;
  readonly dead: boolean;
  kill(signal?: NodeJS.Signals): void;
}

export function pluginEnvironment(opts: LaunchOptions): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.baseEnv ?? process.env)) {
    if (v !== undefined && !WITHHELD_ENV.has(k) && k !== MAGIC_COOKIE_KEY) env[k] = v;
  }
  // Vault's run_config.go makeConfig, then go-plugin's Start.
  env["VAULT_VERSION"] = opts.vaultVersion;
  env["VAULT_PLUGIN_METADATA_MODE"] = "false";
  env["VAULT_PLUGIN_AUTOMTLS_ENABLED"] = "true";
  env[MAGIC_COOKIE_KEY] = MAGIC_COOKIE_VALUE;
  env["PLUGIN_MIN_PORT"] = String(opts.minPort ?? DEFAULT_MIN_PORT);
  env["PLUGIN_MAX_PORT"] = String(opts.maxPort ?? DEFAULT_MAX_PORT);
  env["PLUGIN_PROTOCOL_VERSIONS"] = opts.versions.join(",");
  env["PLUGIN_CLIENT_CERT"] = opts.clientCertPem;
  return env;
}

/** Starts the plugin and waits for its handshake line; kills it if the handshake fails. */
export function launchPluginProcess(opts: LaunchOptions): Promise<PluginProcess> {
  const [file, ...args] = opts.command;
  if (file === undefined) return Promise.reject(new Error("no plugin command"));
  const log = opts.logger;
  let child: ChildProcess;
  try {
    child = spawn(file, args, { env: pluginEnvironment(opts), stdio: ["pipe", "pipe", "pipe"] });
  } catch (e) {
    return Promise.reject(new Error(`cannot start plugin ${basename(file)}: ${(e as Error).message}`));
  }

  let dead = false;
  let spawnError: string | null = null;
  const exited = new Promise<ExitStatus>((resolve) => {
    const done = (status: ExitStatus) => {
      if (dead) return;
      dead = true;
      resolve(status);
    };
    child.once("exit", (code, signal) => done({ code, signal }));
    child.once("error", (e) => {
      log.error("plugin process error", { error: e.message });
      // A spawn failure (ENOENT, EACCES) has no exit event.
      if (child.pid === undefined) {
        spawnError = e.message;
        done({ code: null, signal: null });
      }
    });
  });
  // The host never writes to stdin; it only holds the pipe open. EPIPE when the plugin is gone is expected.
  child.stdin?.on("error", () => undefined);

  const relay = new PluginLogRelay(log);
  if (child.stderr !== null) {
    createInterface({ input: child.stderr, crlfDelay: Number.POSITIVE_INFINITY }).on("line", (l) =>
      relay.line(l),
    );
  }

  return new Promise<PluginProcess>((resolve, reject) => {
    let settled = false;
    const fail = (message: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!dead) child.kill("SIGKILL");
      reject(new HandshakeError(message));
    };
    const timeoutMs = opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    const timer = setTimeout(() => fail("timeout while waiting for plugin to start"), timeoutMs);
    void exited.then((s) => {
      if (spawnError !== null) return fail(`cannot start the plugin: ${spawnError}`);
      const how = s.signal !== null ? `signal ${s.signal}` : `code ${s.code}`;
      fail(`plugin exited before we could connect (${how})`);
    });

    if (child.stdout === null) return fail("the plugin has no stdout");
    let first = true;
    const lines = createInterface({ input: child.stdout, crlfDelay: Number.POSITIVE_INFINITY });
    lines.on("line", (line) => {
      if (!first) {
        // Stdout after the handshake goes to the GRPCStdio stream; stray lines are only shown at debug.
        if (line.trim() !== "") log.debug("plugin stdout", { line: line.slice(0, 4096) });
        return;
      }
      first = false;
      if (settled) return;
      let handshake: Handshake;
      try {
        handshake = parseHandshakeLine(line, { versions: opts.versions, autoMTLS: true });
      } catch (e) {
        return fail((e as Error).message);
      }
      settled = true;
      clearTimeout(timer);
      resolve({
        child,
        pid: child.pid,
        handshake,
        exited,
        get dead() {
          return dead;
        },
        kill(signal: NodeJS.Signals = "SIGKILL") {
          if (!dead) child.kill(signal);
        },
      });
    });
    lines.on("close", () => {
      if (!first || settled) return;
      // Stdout closes as the process exits: give the exit status a moment to tell why.
      const why = setTimeout(
        () => fail("Unrecognized remote plugin message: \nFailed to read any lines from plugin's stdout"),
        500,
      );
      void exited.then(() => clearTimeout(why));
    });
  });
}
