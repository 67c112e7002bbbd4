/**
 * `npm start`: the dev host. Prints the address, the root token and example
 * requests on stdout; logs go to stderr as hclog JSON lines. SIGINT/SIGTERM
 * stop it gracefully (a second signal forces the exit).
 */

import { JsonLogger } from "../util/logger.ts";
import { ConfigError, type HostConfig, parseConfig, usage } from "./config.ts";
import { DevHost, type StartInfo, StartupError, UNSEAL_KEY_ENV } from "./host.ts";
import { createPluginLauncher } from "./plugin.ts";

function banner(info: StartInfo, config: HostConfig): string {
  const mount = info.mounts[0]?.replace(/\/$/, "") ?? "transit";
  const unseal =
    info.unsealKeyOrigin === "environment"
      ? `from ${UNSEAL_KEY_ENV}`
      : info.unsealKeyOrigin === "generated"
        ? `generated, in ${config.unsealKeyFile} (mode 0600): keep it, the data cannot be read without it`
        : `read from ${config.unsealKeyFile}`;
  const token =
    info.generatedRootToken === null ? `${info.rootToken} (from VAULT_DEV_ROOT_TOKEN_ID)` : info.rootToken;
  return `==> Dev host started: Vault's HTTP API, transit served by the plugin process

    Address:     ${info.address}
    Root token:  ${token}
    Mounts:      ${info.mounts.join(", ") || "(none)"}
    Data:        ${config.dataDir} (encrypted)
    Unseal key:  ${unseal}

Use it as you would use Vault:

    export VAULT_ADDR='${info.address}'
    export VAULT_TOKEN='${info.rootToken}'

    curl -s -H "X-Vault-Token: $VAULT_TOKEN" -X POST $VAULT_ADDR/v1/${mount}/keys/my-key
    curl -s -H "X-Vault-Token: $VAULT_TOKEN" -X POST -d '{"plaintext": "aGVsbG8gd29ybGQ="}' \\
      $VAULT_ADDR/v1/${mount}/encrypt/my-key

Stop with Ctrl-C.
`;
}

async function main(): Promise<number> {
  let config: HostConfig;
  try {
    const parsed = parseConfig(process.argv.slice(2));
    if (parsed.help) {
      process.stdout.write(`${usage()}\n`);
      return 0;
    }
    config = parsed.config;
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`Error: ${e.message}\n`);
      return 2;
    }
    throw e;
  }

  const logger = new JsonLogger((line) => process.stderr.write(line), config.logLevel, "");

  // Signals are handled from the start: one that arrives while the host starts stops it right after.
  let signalled: NodeJS.Signals | null = null;
  let host: DevHost | null = null;
  let stopped!: (code: number) => void;
  const done = new Promise<number>((resolve) => {
    stopped = resolve;
  });
  const stop = (h: DevHost, signal: NodeJS.Signals) => {
    logger.info("shutting down", { signal });
    h.stop().then(
      () => {
        logger.info("stopped");
        stopped(0);
      },
      (e: unknown) => {
        logger.error("shutdown failed", { error: e instanceof Error ? e.message : String(e) });
        stopped(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled !== null) {
      logger.warn("second signal: exiting now", { signal });
      process.exit(1);
    }
    signalled = signal;
    if (host !== null) stop(host, signal);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  let started: Awaited<ReturnType<typeof DevHost.start>>;
  try {
    started = await DevHost.start({ config, launcher: createPluginLauncher(config, logger), logger });
  } catch (e) {
    if (e instanceof StartupError) {
      process.stderr.write(`Error: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  host = started.host;
  if (signalled !== null) {
    stop(host, signalled);
    return done;
  }
  process.stdout.write(banner(started.info, config));
  return done;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`Error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
