/**
 * The dev host's plugin launcher: starts the plugin executable as Vault does
 * through the go-plugin client in src/pluginhost (handshake, auto-mTLS,
 * health, broker, multiplexing) and hands the host a PluginInstance
 * (./backend.ts).
 */
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { PluginHostInstance } from "../pluginhost/index.ts";
import type { PluginInstance, PluginLauncher } from "../protocol/mount-backend.ts";
import type { Logger } from "../util/logger.ts";
import type { HostConfig } from "./config.ts";
import { HOST_VERSION } from "./sys.ts";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** The project's own plugin executable: the built single file if there is one, else the TypeScript entry via tsx. */
export function defaultPluginCommand(): string[] {
  for (const built of [
    "dist/plugin/vault-plugin-secrets-transit-ts.mjs",
    "dist/vault-plugin-secrets-transit-ts",
  ]) {
    const file = resolve(REPO_ROOT, built);
    if (existsSync(file)) return built.endsWith(".mjs") ? [process.execPath, file] : [file];
  }
  return [process.execPath, "--import", "tsx", resolve(REPO_ROOT, "src/plugin/main.ts")];
}

export function createPluginLauncher(
  config: HostConfig,
  logger: Logger,
  options: { clusterId?: string } = {},
): PluginLauncher {
  const command = config.pluginCommand ?? defaultPluginCommand();
  const pluginLogger = logger.named(config.pluginName);
  return async (): Promise<PluginInstance> =>
    PluginHostInstance.start({
      command,
      logger: pluginLogger,
      vaultVersion: HOST_VERSION,
      ...(options.clusterId === undefined ? {} : { clusterId: options.clusterId }),
    });
}
