/**
 * The plugin executable's entry: `node --import tsx src/plugin/main.ts` in
 * development, the same module bundled in the single-file build. Vault (or
 * any go-plugin host with Vault's handshake) starts it; by hand it only
 * prints why it will not run.
 */

import { MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE } from "../protocol/constants.ts";
import { createTransitBackend } from "../transit/backend.ts";
import { JsonLogger, type LogLevel } from "../util/logger.ts";
import { EnvError, hostEngineFromEnv, readPluginEnv } from "./env.ts";
import { transportFromEnv } from "./rpc-server.ts";
import { PluginServer } from "./server.ts";
import { PLUGIN_VERSION } from "./version.ts";

const LEVELS: readonly LogLevel[] = ["trace", "debug", "info", "warn", "error"];

function logLevel(raw: string | undefined): LogLevel {
  const l = (raw ?? "").toLowerCase();
  return (LEVELS as readonly string[]).includes(l) ? (l as LogLevel) : "info";
}

function exitAfterFlush(code: number): void {
  process.stderr.write("", () => process.stdout.write("", () => process.exit(code)));
}

async function main(): Promise<void> {
  if (process.env[MAGIC_COOKIE_KEY] !== MAGIC_COOKIE_VALUE) {
    process.stderr.write(
      "This binary is a plugin for HashiCorp Vault (the transit secrets engine). It is not meant to be executed directly: register it with Vault, which starts it.\n",
    );
    process.exitCode = 1;
    return;
  }
  const logger = new JsonLogger(
    (line) => process.stderr.write(line),
    logLevel(process.env["VAULT_LOG_LEVEL"]),
  );

  // Only the handshake line may reach stdout: anything a library prints goes to stderr as a log line.
  const toLog =
    (level: "info" | "warn" | "error") =>
    (...args: unknown[]) =>
      logger[level]("console output", { args_count: args.length });
  console.log = toLog("info");
  console.info = toLog("info");
  console.debug = toLog("info");
  console.warn = toLog("warn");
  console.error = toLog("error");

  let env: ReturnType<typeof readPluginEnv>;
  try {
    env = readPluginEnv(process.env);
  } catch (e) {
    if (e instanceof EnvError) {
      logger.error("plugin init error", { error: e.message });
      process.stderr.write(`${e.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw e;
  }

  const hostEngine = hostEngineFromEnv(process.env);
  const server = new PluginServer({
    env,
    logger,
    version: PLUGIN_VERSION,
    factory: ({ logger: l, system }) =>
      createTransitBackend({
        logger: l.named("transit"),
        version: PLUGIN_VERSION,
        hostEngine,
        system,
        cachingDisabled: () => system.cachingDisabled(),
      }),
    writeHandshake: (line) => process.stdout.write(line),
    onExit: exitAfterFlush,
    transport: transportFromEnv(process.env["TRANSIT_TS_GRPC_SERVER"]),
  });

  process.on("SIGTERM", () => void server.stop("SIGTERM"));
  let interrupts = 0;
  process.on("SIGINT", () => {
    interrupts++;
    logger.trace("plugin received interrupt signal, ignoring", { count: interrupts });
  });
  process.on("uncaughtException", (e) => {
    logger.error("uncaught exception; exiting", {
      error_class: e instanceof Error ? e.constructor.name : typeof e,
    });
    exitAfterFlush(1);
  });
  process.on("unhandledRejection", (e) => {
    logger.error("unhandled rejection; exiting", {
      error_class: e instanceof Error ? e.constructor.name : typeof e,
    });
    exitAfterFlush(1);
  });

  try {
    await server.start();
  } catch (e) {
    logger.error("plugin init error", { error: (e as Error).message });
    exitAfterFlush(1);
    return;
  }
  server.watchHost();
}

await main();
