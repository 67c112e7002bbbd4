/**
 * The mount table, as Vault's: each entry has a path ending in "/", a type, a
 * UUID naming its storage (logical/<uuid>/ in the encrypted store) and an
 * accessor. The table itself is a barrier-sealed record at core/mounts.
 */
import { pack, unpack } from "msgpackr";
import { randomBytes } from "../crypto/hash.ts";
import { randomUuid } from "../crypto/uuid.ts";
import type { EncryptedStore } from "./storage/store.ts";

const TABLE_PATH = "core/mounts";
/** Paths the host serves itself; no mount may sit on or under them. */
export const RESERVED_PREFIXES = ["sys/", "auth/", "cubbyhole/", "identity/"];

export interface MountEntry {
  path: string;
  type: string;
  description: string;
  uuid: string;
  accessor: string;
  options: Record<string, string> | null;
  local: boolean;
  sealWrap: boolean;
  pluginVersion: string;
  createdAt: string;
}

export class MountError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = "MountError";
  }
}

export function storagePrefix(entry: MountEntry): string {
  return `logical/${entry.uuid}/`;
}

/** Vault's sanitizePath: no leading slash, one trailing slash. */
export function sanitizeMountPath(path: string): string {
  let p = path.replace(/^\/+/, "");
  if (!p.endsWith("/")) p += "/";
  return p;
}

export class MountTable {
  private entries: MountEntry[];
  /** Table writes are serialised so two enables cannot lose each other. */
  private writing: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly store: EncryptedStore,
    entries: MountEntry[],
  ) {
    this.entries = entries;
  }

  static async load(store: EncryptedStore): Promise<MountTable> {
    const raw = await store.get(TABLE_PATH);
    const entries = raw === null ? [] : ((unpack(raw) as { v: number; entries: MountEntry[] }).entries ?? []);
    return new MountTable(store, entries);
  }

  list(): MountEntry[] {
    return [...this.entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  get(path: string): MountEntry | undefined {
    const p = sanitizeMountPath(path);
    return this.entries.find((e) => e.path === p);
  }

  /** Vault's router: the longest mount path that prefixes the request path; "foo" also means "foo/". */
  match(path: string): MountEntry | null {
    let best: MountEntry | null = null;
    for (const candidate of [path, path.endsWith("/") ? null : `${path}/`]) {
      if (candidate === null) continue;
      for (const e of this.entries) {
        if (candidate.startsWith(e.path) && (best === null || e.path.length > best.path.length)) best = e;
      }
      if (best !== null) return best;
    }
    return best;
  }

  /** Validates and adds a mount; returns the new entry once the table is durable. */
  add(input: {
    path: string;
    type: string;
    description?: string;
    options?: Record<string, string> | null;
    local?: boolean;
    sealWrap?: boolean;
    pluginVersion?: string;
  }): Promise<MountEntry> {
    return this.serialise(async () => {
      const path = sanitizeMountPath(input.path);
      if (
        path === "/" ||
        path
          .split("/")
          .slice(0, -1)
          .some((s) => s === "" || s === "." || s === "..")
      ) {
        throw new MountError(`invalid mount path ${JSON.stringify(input.path)}`, 400);
      }
      for (const reserved of RESERVED_PREFIXES) {
        if (path.startsWith(reserved) || reserved.startsWith(path)) {
          throw new MountError(`cannot mount under existing mount "${reserved}"`, 400);
        }
      }
      for (const e of this.entries) {
        if (path.startsWith(e.path) || e.path.startsWith(path)) {
          throw new MountError(`path is already in use at ${e.path}`, 409);
        }
      }
      const entry: MountEntry = {
        path,
        type: input.type,
        description: input.description ?? "",
        uuid: randomUuid(),
        accessor: `${input.type.replace(/[^a-z0-9]/gi, "_")}_${randomBytes(4).toString("hex")}`,
        options: input.options ?? null,
        local: input.local ?? false,
        sealWrap: input.sealWrap ?? false,
        pluginVersion: input.pluginVersion ?? "",
        createdAt: new Date().toISOString(),
      };
      await this.persist([...this.entries, entry]);
      return entry;
    });
  }

  /** Removes a mount from the table (its storage is cleared by the caller). Null if there was none. */
  remove(path: string): Promise<MountEntry | null> {
    return this.serialise(async () => {
      const p = sanitizeMountPath(path);
      const entry = this.entries.find((e) => e.path === p);
      if (entry === undefined) return null;
      await this.persist(this.entries.filter((e) => e !== entry));
      return entry;
    });
  }

  update(
    path: string,
    change: Partial<Pick<MountEntry, "description" | "options">>,
  ): Promise<MountEntry | null> {
    return this.serialise(async () => {
      const p = sanitizeMountPath(path);
      const entry = this.entries.find((e) => e.path === p);
      if (entry === undefined) return null;
      const next = { ...entry, ...change };
      await this.persist(this.entries.map((e) => (e === entry ? next : e)));
      return next;
    });
  }

  private async persist(entries: MountEntry[]): Promise<void> {
    await this.store.put(TABLE_PATH, pack({ v: 1, entries }));
    this.entries = entries;
  }

  private serialise<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.writing.then(fn);
    this.writing = next.catch(() => undefined);
    return next;
  }
}
