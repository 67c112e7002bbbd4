/**
 * The go-plugin client the dev host uses to run the plugin as Vault does.
 * See client.ts for the protocol, instance.ts for the host's model.
 */
export { generateAutoMtlsCert, serverCertFromHandshake } from "./certs.ts";
export { PluginClient, type PluginClientOptions } from "./client.ts";
export { type Handshake, HandshakeError, parseHandshakeLine } from "./handshake.ts";
export { PluginHostInstance } from "./instance.ts";
export { PluginMount } from "./mount.ts";
export { pluginEnvironment } from "./process.ts";
