/**
 * An in-process "plugin" for the dev host that runs the real transit engine
 * (src/transit) behind the host's PluginInstance interface, so the HTTP layer
 * can be fuzzed against the engine's real answers without a plugin process.
 * It mirrors test/host/helpers/standin.ts. A mount point listed in `absent`
 * fails to set up, as a plugin that is deliberately missing: requests to it
 * must answer 500 (PluginUnavailableError), the only 5xx the HTTP fuzz allows.
 */
import { toLogicalError } from "../../../src/framework/errors.ts";
import type { LogicalRequest } from "../../../src/framework/request.ts";
import type {
  BackendResponse,
  HostRequest,
  MountBackend,
  MountOptions,
  PluginInstance,
  PluginLauncher,
  RequestResult,
} from "../../../src/protocol/mount-backend.ts";
import { createTransitBackend } from "../../../src/transit/backend.ts";

export function inProcessTransit(absent: readonly string[] = []): PluginLauncher {
  let starts = 0;
  return async (): Promise<PluginInstance> => {
    starts++;
    let dead = false;
    let exit!: (v: { code: number | null; signal: string | null }) => void;
    const exited = new Promise<{ code: number | null; signal: string | null }>((r) => {
      exit = r;
    });
    return {
      pid: 200000 + starts,
      exited,
      get dead() {
        return dead;
      },
      mount: async (opts: MountOptions): Promise<MountBackend> => {
        if (absent.includes(opts.mountPoint))
          throw new Error(`no plugin for ${opts.mountPoint} (deliberate)`);
        const backend = createTransitBackend();
        await backend.initialize(opts.storage);
        const logical = (r: HostRequest): LogicalRequest => ({
          operation: r.operation,
          path: r.path,
          storage: opts.storage,
          mountPoint: r.mountPoint,
          ...(r.data === undefined ? {} : { data: r.data }),
        });
        return {
          handleRequest: (r): Promise<RequestResult> =>
            backend.handleRequest(logical(r)).then(
              (response) => ({ response: response as BackendResponse | null, error: null }),
              (e) => {
                const err = toLogicalError(e);
                return { response: null, error: { kind: err.kind, message: err.message, code: err.code } };
              },
            ),
          handleExistenceCheck: async (r) => {
            try {
              return await backend.handleExistenceCheck(logical(r));
            } catch (e) {
              const err = toLogicalError(e);
              return { checkFound: false, exists: false, error: { kind: err.kind, message: err.message } };
            }
          },
          invalidateKey: async (key) => backend.invalidateKey(key),
          cleanup: () => backend.cleanup(),
        };
      },
      shutdown: async () => {
        dead = true;
        exit({ code: 0, signal: null });
      },
    };
  };
}
