import { goError, invalidRequest } from "../../framework/errors.ts";
import type { OperationHandler, PathDefinition } from "../../framework/path.ts";
import { CONFIG_CACHE_PATH, jsonEntry, MIN_CACHE_SIZE, type TransitState } from "../state.ts";

export function pathCacheConfig(
  t: TransitState,
  cachingDisabled: () => Promise<boolean> = async () => false,
): PathDefinition {
  const write: OperationHandler = async (req, d) => {
    const size = d.get<"int">("size");
    if (size !== 0 && size < MIN_CACHE_SIZE)
      throw invalidRequest(`size must be 0 or a value greater or equal to ${MIN_CACHE_SIZE}`);
    await req.storage.put(jsonEntry(CONFIG_CACHE_PATH, { size }));
    t.keyrings.setCacheSize(size);
    return { data: { size } };
  };
  return {
    pattern: "cache-config",
    fields: {
      size: {
        type: "int",
        default: 0,
        description: "Size of cache, use 0 for an unlimited cache size, defaults to 0",
      },
    },
    operations: {
      read: async (req) => {
        // A plain error in Vault's pathCacheConfigRead: 500.
        if (await cachingDisabled()) throw goError("caching is disabled for this transit mount");
        const stored = await t.readCacheSize(req.storage);
        if (stored !== t.keyrings.cacheSize) t.keyrings.setCacheSize(stored);
        return { data: { size: stored } };
      },
      update: write,
      create: write,
    },
    helpSynopsis: "Configure caching strategy",
    helpDescription:
      "This path is used to configure and query the cache size of the active cache, a size of 0 means unlimited.",
  };
}
