import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { build, type Plugin } from "esbuild";
import { loadProjectModule } from "./bundle.ts";

/**
 * The plugin process as Vault runs it, for layer 3: src/plugin/main.ts
 * bundled with its packages as `npm run build:plugin` bundles it (run by the
 * same Node as this process: the runtime the single executable embeds when
 * the bench runs under npm), started through the
 * project's go-plugin client (src/pluginhost: cookie, handshake, auto-mTLS,
 * health, broker) with one transit mount on in-memory storage. Loaded lazily
 * so the layer can skip with a clear line while a piece is missing.
 */
export interface HostRequestLike {
  id: string;
  operation: "update";
  path: string;
  data: Record<string, unknown>;
  mountPoint: string;
  mountType: string;
  headers: Record<string, string[]>;
  clientToken: string;
}

export interface MountLike {
  handleRequest(req: HostRequestLike): Promise<{
    response: { data?: Record<string, unknown> | null; statusCode?: number } | null;
    error: { kind: number; message: string } | null;
  }>;
  cleanup(): Promise<void>;
}

interface ClientLike {
  mount(opts: {
    storage: unknown;
    backendUUID: string;
    mountPoint: string;
    config: Record<string, string>;
  }): Promise<MountLike>;
  shutdown(): Promise<void>;
  readonly pid: number | undefined;
}

type PluginHostModule = {
  PluginClient?: {
    start(opts: {
      command: string[];
      logger: unknown;
      vaultVersion: string;
      startTimeoutMs?: number;
      versionAttempts?: number[][];
    }): Promise<ClientLike>;
  };
};
type StorageModule = { InMemoryStorage?: new () => unknown };

/** A logger that drops everything (the plugin's log lines are not measured). */
const quiet = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
  named() {
    return quiet;
  },
};

export const MOUNT_POINT = "transit/";

export interface RunningPlugin {
  mount: MountLike;
  pid: number | undefined;
  /** The plugin command that was run. */
  command: string[];
  request(path: string, data: Record<string, unknown>): HostRequestLike;
  /** An update that must succeed; its data. */
  write(path: string, data: Record<string, unknown>): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export async function startPlugin(root: string, tmp: string): Promise<RunningPlugin | { reason: string }> {
  for (const f of ["src/plugin/main.ts", "src/pluginhost/index.ts"]) {
    if (!existsSync(path.join(root, f))) return { reason: `${f} not available yet` };
  }
  // @peculiar/x509 needs its reflect polyfill loaded first; a bundle with external packages would
  // import the package before the polyfill's code runs, so the polyfill is loaded on its own first.
  await loadProjectModule(root, "src/util/reflect-polyfill.ts", tmp);
  const host = await loadProjectModule<PluginHostModule>(root, "src/pluginhost/index.ts", tmp);
  const storageMod = await loadProjectModule<StorageModule>(root, "src/framework/storage.ts", tmp);
  const PluginClient = host?.PluginClient;
  const InMemoryStorage = storageMod?.InMemoryStorage;
  if (PluginClient === undefined || InMemoryStorage === undefined) {
    return { reason: "src/pluginhost does not export PluginClient yet" };
  }
  let bundle: string;
  try {
    bundle = await bundlePlugin(root, tmp);
  } catch (e) {
    return { reason: `the plugin does not bundle: ${(e as Error).message.split("\n")[0]}` };
  }
  const command = [process.execPath, bundle];
  let client: ClientLike;
  try {
    client = await PluginClient.start({
      command,
      logger: quiet,
      vaultVersion: "1.21.0",
      startTimeoutMs: 30_000,
    });
  } catch (e) {
    return { reason: `the plugin did not start: ${(e as Error).message.split("\n")[0]}` };
  }
  let mount: MountLike;
  try {
    mount = await client.mount({
      storage: new InMemoryStorage(),
      backendUUID: "00000000-0000-0000-0000-00000000beef",
      mountPoint: MOUNT_POINT,
      config: {},
    });
  } catch (e) {
    await client.shutdown();
    return { reason: `the plugin did not mount: ${(e as Error).message.split("\n")[0]}` };
  }
  let n = 0;
  const request = (p: string, data: Record<string, unknown>): HostRequestLike => ({
    id: `bench-${++n}`,
    operation: "update",
    path: p,
    data,
    mountPoint: MOUNT_POINT,
    mountType: "transit",
    headers: {},
    clientToken: "bench-token",
  });
  const write = async (p: string, data: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const r = await mount.handleRequest(request(p, data));
    if (r.error !== null) throw new Error(`${p}: ${r.error.message}`);
    const out = r.response?.data ?? {};
    if (typeof out["error"] === "string") throw new Error(`${p}: ${out["error"]}`);
    return out;
  };
  return {
    mount,
    pid: client.pid,
    command,
    request,
    write,
    stop: async () => {
      await mount.cleanup().catch(() => undefined);
      await client.shutdown();
    },
  };
}

/** msgpackr's optional native extension is left out, as the production build leaves it out. */
const absentNative: Plugin = {
  name: "absent-native",
  setup(b) {
    b.onResolve({ filter: /^msgpackr-extract(\/.*)?$/ }, () => ({
      path: "msgpackr-extract",
      namespace: "absent",
    }));
    b.onLoad({ filter: /.*/, namespace: "absent" }, () => ({
      contents: 'throw new Error("msgpackr-extract is not bundled");',
      loader: "js",
    }));
  },
};

/** src/plugin/main.ts and its packages in one ESM file, as scripts/build-plugin.ts makes it. */
export async function bundlePlugin(root: string, tmp: string): Promise<string> {
  const outDir = path.join(tmp, "bundles");
  mkdirSync(outDir, { recursive: true });
  const outfile = path.join(outDir, "plugin-main.mjs");
  await build({
    entryPoints: [path.join(root, "src/plugin/main.ts")],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    banner: {
      js: 'import { createRequire as __benchCreateRequire } from "node:module";\nconst require = __benchCreateRequire(import.meta.url);',
    },
    external: ["lmdb"],
    plugins: [absentNative],
    logLevel: "silent",
  });
  return outfile;
}
