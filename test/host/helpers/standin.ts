/**
 * A stand-in plugin whose only job is to test the dev host's HTTP mapping:
 * a tiny framework Backend (not the transit engine) behind the host's
 * PluginInstance interface, in process. End-to-end tests use the real plugin
 * process instead.
 */
import { Backend } from "../../../src/framework/backend.ts";
import { codedError, ErrorKind, LogicalError, toLogicalError } from "../../../src/framework/errors.ts";
import { errorResponse, type LogicalRequest } from "../../../src/framework/request.ts";
import type { Storage } from "../../../src/framework/storage.ts";
import type {
  BackendResponse,
  HostRequest,
  MountBackend,
  MountOptions,
  PluginInstance,
  PluginLauncher,
  RequestResult,
} from "../../../src/protocol/mount-backend.ts";

export interface StandinControl {
  launcher: PluginLauncher;
  /** Simulates the plugin process dying. */
  kill(): void;
  starts: number;
  /** Mount points set up, in order, across all instances. */
  mounted: string[];
  cleanedUp: string[];
  /** Operations seen, "<mount>:<operation>:<path>". */
  seen: string[];
}

function standinBackend(): Backend {
  return new Backend({
    help: "stand-in",
    paths: [
      {
        pattern: "items/?$",
        operations: {
          list: async (req) => ({ data: { keys: await req.storage.list("items/") } }),
        },
      },
      {
        pattern: "items/(?<name>\\w+)",
        fields: { name: { type: "string" }, value: { type: "string" } },
        existenceCheck: async (req, d) =>
          (await req.storage.get(`items/${d.get<"string">("name")}`)) !== null,
        operations: {
          create: async (req, d) => {
            await req.storage.put({
              key: `items/${d.get<"string">("name")}`,
              value: new TextEncoder().encode(d.get<"string">("value")),
            });
            return { data: { created: true } };
          },
          update: async (req, d) => {
            await req.storage.put({
              key: `items/${d.get<"string">("name")}`,
              value: new TextEncoder().encode(d.get<"string">("value")),
            });
            return null;
          },
          read: async (req, d) => {
            const e = await req.storage.get(`items/${d.get<"string">("name")}`);
            return e === null ? null : { data: { value: new TextDecoder().decode(e.value) } };
          },
          delete: async (req, d) => {
            await req.storage.delete(`items/${d.get<"string">("name")}`);
            return null;
          },
        },
      },
      {
        pattern: "fail/(?<how>\\w+)",
        fields: { how: { type: "string" } },
        operations: {
          update: async (_req, d) => {
            switch (d.get<"string">("how")) {
              case "response":
                return errorResponse("bad thing");
              case "denied":
                throw new LogicalError(ErrorKind.PermissionDenied, "permission denied");
              case "coded":
                throw codedError(418, "teapot");
              case "internal":
                throw new Error("secret detail that must not leak");
              case "unsupported":
                throw new LogicalError(ErrorKind.UnsupportedOperation, "unsupported operation");
              default:
                return null;
            }
          },
        },
      },
      {
        pattern: "raw",
        operations: {
          update: async () => ({
            data: {
              http_status_code: 400,
              http_content_type: "application/json",
              http_raw_body: JSON.stringify({ data: { batch_results: [{ error: "x" }] } }),
            },
          }),
        },
      },
      {
        pattern: "echo",
        takesArbitraryInput: true,
        operations: {
          update: async (req) => ({
            data: { got: req.data ?? null, op: req.operation },
            warnings: ["a warning"],
          }),
          read: async (req) => ({ data: { got: req.data ?? null, op: req.operation } }),
        },
      },
      {
        pattern: "status",
        operations: { update: async () => ({ data: { partial: true }, statusCode: 400 }) },
      },
    ],
  });
}

function toHostResult(run: () => Promise<BackendResponse | null>): Promise<RequestResult> {
  return run().then(
    (response) => ({ response, error: null }),
    (e) => {
      const err = toLogicalError(e);
      return { response: null, error: { kind: err.kind, message: err.message, code: err.code } };
    },
  );
}

export function standinPlugin(): StandinControl {
  const control: StandinControl = {
    launcher: async () => {
      control.starts++;
      let exit!: (v: { code: number | null; signal: string | null }) => void;
      const exited = new Promise<{ code: number | null; signal: string | null }>((r) => {
        exit = r;
      });
      let dead = false;
      const die = (signal: string | null) => {
        if (dead) return;
        dead = true;
        exit({ code: null, signal });
      };
      control.kill = () => die("SIGKILL");
      const instance: PluginInstance = {
        pid: 100000 + control.starts,
        exited,
        get dead() {
          return dead;
        },
        mount: async (opts: MountOptions): Promise<MountBackend> => {
          control.mounted.push(opts.mountPoint);
          const backend = standinBackend();
          const storage: Storage = opts.storage;
          const logical = (r: HostRequest): LogicalRequest => ({
            operation: r.operation,
            path: r.path,
            storage,
            mountPoint: r.mountPoint,
            ...(r.data === undefined ? {} : { data: r.data }),
          });
          const guard = () => {
            if (dead) throw new Error("plugin process is gone");
          };
          return {
            handleRequest: async (r) => {
              guard();
              control.seen.push(`${r.mountPoint}:${r.operation}:${r.path}`);
              return toHostResult(() => backend.handleRequest(logical(r)));
            },
            handleExistenceCheck: async (r) => {
              guard();
              try {
                return await backend.handleExistenceCheck(logical(r));
              } catch (e) {
                const err = toLogicalError(e);
                return { checkFound: false, exists: false, error: { kind: err.kind, message: err.message } };
              }
            },
            cleanup: async () => {
              control.cleanedUp.push(opts.mountPoint);
            },
          };
        },
        shutdown: async () => die(null),
      };
      return instance;
    },
    kill: () => {},
    starts: 0,
    mounted: [],
    cleanedUp: [],
    seen: [],
  };
  return control;
}
