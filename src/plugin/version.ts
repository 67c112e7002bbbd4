/** The plugin's version as Vault sees it (PluginVersion service; `vault plugin register -version`). */
import pkg from "../../package.json" with { type: "json" };

export const PLUGIN_NAME = "vault-plugin-secrets-transit-ts";
export const PLUGIN_VERSION = `v${pkg.version}`;
