import { Backend } from "../framework/backend.ts";
import type { Storage } from "../framework/storage.ts";
import { type Logger, nullLogger } from "../util/logger.ts";
import { AutoRotator, type ClusterView } from "./auto-rotate.ts";
import type { Engine } from "./keyring/backup-numbering.ts";
import { POLICY_PREFIX } from "./keyring/manager.ts";
import { pathBackup } from "./paths/path-backup.ts";
import { pathByokExport } from "./paths/path-byok.ts";
import { pathCacheConfig } from "./paths/path-cache-config.ts";
import { pathCreateCsr, pathImportCertChain } from "./paths/path-certificates.ts";
import { pathCmac } from "./paths/path-cmac.ts";
import { pathConfigKeys } from "./paths/path-config-keys.ts";
import { pathDatakey } from "./paths/path-datakey.ts";
import { pathDecrypt } from "./paths/path-decrypt.ts";
import { pathDeriveKey } from "./paths/path-derive-key.ts";
import { pathEncrypt } from "./paths/path-encrypt.ts";
import { pathExport } from "./paths/path-export.ts";
import { pathHash } from "./paths/path-hash.ts";
import { pathHmac } from "./paths/path-hmac.ts";
import { pathImport, pathImportVersion } from "./paths/path-import.ts";
import { pathKeys, pathListKeys } from "./paths/path-keys.ts";
import { pathKeysConfig } from "./paths/path-keys-config.ts";
import { pathRandom } from "./paths/path-random.ts";
import { pathRestore } from "./paths/path-restore.ts";
import { pathRewrap } from "./paths/path-rewrap.ts";
import { pathRotate } from "./paths/path-rotate.ts";
import { pathSign, pathVerify } from "./paths/path-sign-verify.ts";
import { pathSoftDelete, pathSoftDeleteRestore } from "./paths/path-soft-delete.ts";
import { pathTrim } from "./paths/path-trim.ts";
import { pathWrappingKey } from "./paths/path-wrapping-key.ts";
import { CONFIG_CACHE_PATH, MIN_CACHE_SIZE, TransitState } from "./state.ts";

export interface TransitOptions {
  logger?: Logger;
  /** The plugin's version, reported to Vault. */
  version?: string;
  /** The host engine (Vault unless told), whose key type numbering backups are written in. */
  hostEngine?: Engine;
  /** The host's SystemView (replication state, local mount); absent: a single node, periodic work runs. */
  system?: ClusterView;
  /** SystemView CachingDisabled: Vault's cache-config read refuses then. */
  cachingDisabled?: () => Promise<boolean>;
}

export const TRANSIT_HELP =
  "The transit backend is used to encrypt/decrypt data in-transit. It treats the data as untrusted and as such does not store it. The backend also provides signing and HMAC functions.";

/** Builds one mount's transit engine: its paths, its keyring cache, its periodic task. */
export function createTransitBackend(options: TransitOptions = {}): Backend {
  const t = new TransitState(options.logger ?? nullLogger);
  if (options.hostEngine !== undefined) t.hostEngine = options.hostEngine;
  return buildTransitBackend(t, options);
}

async function applyStoredCacheSize(t: TransitState, storage: Storage): Promise<void> {
  const size = await t.readCacheSize(storage);
  t.keyrings.setCacheSize(size !== 0 && size < MIN_CACHE_SIZE ? MIN_CACHE_SIZE : size);
}

export function buildTransitBackend(t: TransitState, options: TransitOptions = {}): Backend {
  let cacheSizeStale = false;
  const rotator = new AutoRotator(t, options.system);
  return new Backend({
    help: TRANSIT_HELP,
    type: "logical",
    runningVersion: options.version ?? "",
    specialPaths: { sealWrapStorage: ["archive/", "policy/"] },
    paths: [
      pathRotate(t),
      pathRewrap(t),
      pathKeys(t),
      pathSoftDelete(t),
      pathSoftDeleteRestore(t),
      pathListKeys(),
      pathKeysConfig(t),
      pathEncrypt(t),
      pathDecrypt(t),
      pathDatakey(t),
      pathDeriveKey(t),
      pathTrim(t),
      pathCacheConfig(t, options.cachingDisabled),
      pathConfigKeys(t),
      pathSign(t),
      pathVerify(t),
      pathHmac(t),
      pathCmac(t),
      pathHash(),
      pathRandom(),
      pathExport(t),
      pathBackup(t),
      pathRestore(t),
      pathWrappingKey(t),
      pathImport(t),
      pathImportVersion(t),
      pathByokExport(t),
      pathCreateCsr(t),
      pathImportCertChain(t),
    ],
    initialize: (storage) => applyStoredCacheSize(t, storage),
    periodic: async (storage) => {
      // Reading is allowed on every node: a cache size changed on the active node applies here too.
      if (cacheSizeStale) {
        cacheSizeStale = false;
        await applyStoredCacheSize(t, storage);
      }
      await rotator.tick(storage);
    },
    // Every value cached from storage is dropped with its entry: keyrings (the wrapping key is the
    // keyring import/wrapping-key) and the due-time index through the manager's watchers, the cache
    // size through a re-read at the next tick. config/keys is read from storage on every use.
    invalidate: (key) => {
      if (key.startsWith(POLICY_PREFIX)) t.keyrings.invalidate(key.slice(POLICY_PREFIX.length));
      // "cache-config/" is the key Vault's invalidate watches for the cache size (though the
      // size is stored at config/cache); both drop what the cache holds.
      else if (key === CONFIG_CACHE_PATH || key.startsWith("cache-config/")) {
        cacheSizeStale = true;
        t.keyrings.invalidateAll();
      }
    },
  });
}
