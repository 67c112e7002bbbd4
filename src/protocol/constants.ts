/**
 * The go-plugin and Vault plugin protocol's fixed values, defined once for
 * both sides: the plugin server (src/plugin) and the go-plugin client the
 * dev host runs it with (src/pluginhost).
 */

/** Vault's backend plugin handshake (sdk/plugin/serve.go HandshakeConfig). */
export const MAGIC_COOKIE_KEY = "VAULT_BACKEND_PLUGIN";
export const MAGIC_COOKIE_VALUE = "6669da05-b1c8-4f49-97d9-c8e5bed98e20";

/** go-plugin's CoreProtocolVersion: the first field of the handshake line. */
export const CORE_PROTOCOL_VERSION = 1;

/**
 * App protocol versions of Vault's backend plugins, as ServeMultiplex serves
 * them: 3 and 4 a single backend (3 is kept by Vault for old hosts and is
 * identical to 4), 5 the multiplexed backend. Highest first.
 */
export const APP_PROTOCOL_VERSIONS = [5, 4, 3] as const;
export const MULTIPLEXED_VERSION = 5;
/** The versions Vault offers a plugin, one attempt after another (its builtin plugin factory). */
export const VERSION_ATTEMPTS: readonly (readonly number[])[] = [[5], [3, 4]];

/** sdk/helper/pluginutil MultiplexingCtxKey: the gRPC metadata naming a mount's instance. */
export const MULTIPLEX_ID_KEY = "multiplex_id";

/** logical.TypeLogical, the Backend service's Type reply for a secrets engine. */
export const BACKEND_TYPE_LOGICAL = 1;

/** Nanoseconds per second: Vault's durations cross pb as int64 nanoseconds (time.Duration). */
export const NS_PER_SECOND = 1_000_000_000;
