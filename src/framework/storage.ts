/**
 * Vault's logical.Storage: a flat key space of opaque values. `list(prefix)`
 * returns the next path segment under the prefix; a segment that has deeper
 * keys below it ends in "/" (a folder). Implementations: InMemoryStorage here,
 * the broker client in the plugin, the barrier store in the dev host.
 */
export interface StorageEntry {
  key: string;
  value: Uint8Array;
  sealWrap?: boolean;
}

export interface Storage {
  list(prefix: string): Promise<string[]>;
  get(key: string): Promise<StorageEntry | null>;
  put(entry: StorageEntry): Promise<void>;
  delete(key: string): Promise<void>;
}

/** Vault's rule for a list result: the next segment after prefix, folders once with a trailing slash. */
export function listSegments(keys: Iterable<string>, prefix: string): string[] {
  const out = new Set<string>();
  for (const key of keys) {
    if (!key.startsWith(prefix)) continue;
    const rest = key.slice(prefix.length);
    const slash = rest.indexOf("/");
    out.add(slash === -1 ? rest : rest.slice(0, slash + 1));
  }
  return [...out].sort();
}

/** Storage in a Map, for tests and in-process use. Values are copied in and out. */
export class InMemoryStorage implements Storage {
  readonly entries = new Map<string, Uint8Array>();

  async list(prefix: string): Promise<string[]> {
    return listSegments(this.entries.keys(), prefix);
  }

  async get(key: string): Promise<StorageEntry | null> {
    const value = this.entries.get(key);
    return value === undefined ? null : { key, value: new Uint8Array(value) };
  }

  async put(entry: StorageEntry): Promise<void> {
    this.entries.set(entry.key, new Uint8Array(entry.value));
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }
}

/** Storage seen through a fixed prefix, as Vault's logical.StorageView. */
export class StorageView implements Storage {
  constructor(
    private readonly inner: Storage,
    private readonly prefix: string,
  ) {}

  list(prefix: string): Promise<string[]> {
    return this.inner.list(this.prefix + prefix);
  }

  async get(key: string): Promise<StorageEntry | null> {
    const entry = await this.inner.get(this.prefix + key);
    return entry === null ? null : { ...entry, key };
  }

  put(entry: StorageEntry): Promise<void> {
    return this.inner.put({ ...entry, key: this.prefix + entry.key });
  }

  delete(key: string): Promise<void> {
    return this.inner.delete(this.prefix + key);
  }
}
