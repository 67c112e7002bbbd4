import {
  invalidRequest,
  toLogicalError,
  unsupportedOperation,
  unsupportedPath,
  userError,
} from "./errors.ts";
import { FieldData, FieldError } from "./fields.ts";
import { openApiDocument } from "./openapi.ts";
import {
  type CompiledPath,
  compilePath,
  type OperationHandler,
  operationHandler,
  type PathDefinition,
} from "./path.ts";
import { addWarning, errorResponse, type LogicalRequest, type LogicalResponse } from "./request.ts";
import type { Storage } from "./storage.ts";

export type BackendType = "logical" | "credential";

/**
 * Routing results kept by request path. Paths carry key names (encrypt/<key>),
 * so the cache must hold the names in use: a request that misses runs the
 * route expressions (1-2 µs, a tenth of an encrypt) and a full cache is
 * cleared. 16 384 entries (about 2.5 MB at most) keep encrypt flat up to the
 * 10 000 keys the bench rotates through.
 */
const ROUTE_CACHE_SIZE = 16_384;

/** logical.Paths: paths Vault treats specially (root-protected, unauthenticated, local, seal-wrapped). */
export interface SpecialPaths {
  root?: string[];
  unauthenticated?: string[];
  localStorage?: string[];
  sealWrapStorage?: string[];
}

export interface BackendOptions {
  help: string;
  paths: PathDefinition[];
  type?: BackendType;
  specialPaths?: SpecialPaths;
  runningVersion?: string;
  /** Called by the host on Vault's rollback tick (once a minute in Vault). */
  periodic?: (storage: Storage) => Promise<void>;
  /** Called once per mount after Setup, before requests. */
  initialize?: (storage: Storage) => Promise<void>;
  /** A storage key changed behind our back (Vault's InvalidateKey): drop any cache of it. */
  invalidate?: (key: string) => void;
  /** The mount is going away; release what the backend holds. */
  cleanup?: () => Promise<void>;
}

export interface ExistenceCheckResult {
  checkFound: boolean;
  exists: boolean;
}

/**
 * The TypeScript counterpart of Vault's framework.Backend: routes a logical
 * request to the first matching path, validates its fields and calls the
 * operation's handler. Errors leave as LogicalError; it knows nothing of gRPC
 * or HTTP.
 */
export class Backend {
  readonly help: string;
  readonly type: BackendType;
  readonly runningVersion: string;
  private readonly paths: CompiledPath[];
  private readonly options: BackendOptions;
  /** Recent routing results by request path; requests repeat the same few paths. */
  private readonly routeCache = new Map<
    string,
    { path: CompiledPath; captures: Record<string, string> } | null
  >();

  constructor(options: BackendOptions) {
    this.options = options;
    this.help = options.help;
    this.type = options.type ?? "logical";
    this.runningVersion = options.runningVersion ?? "";
    this.paths = options.paths.map(compilePath);
  }

  get pathDefinitions(): readonly PathDefinition[] {
    return this.paths.map((p) => p.definition);
  }

  specialPaths(): SpecialPaths {
    return this.options.specialPaths ?? {};
  }

  /** Finds the route for a path and its named captures ("" for an optional group that did not match). */
  route(path: string): { path: CompiledPath; captures: Record<string, string> } | null {
    const result = this.cachedRoute(path);
    return result === null ? null : { path: result.path, captures: { ...result.captures } };
  }

  /** route() without the copy: the cached object itself, which callers must not change. */
  private cachedRoute(path: string): { path: CompiledPath; captures: Record<string, string> } | null {
    const cached = this.routeCache.get(path);
    if (cached !== undefined) return cached;
    const result = this.matchRoute(path);
    if (this.routeCache.size >= ROUTE_CACHE_SIZE) this.routeCache.clear();
    this.routeCache.set(path, result);
    return result;
  }

  private matchRoute(path: string): { path: CompiledPath; captures: Record<string, string> } | null {
    for (const compiled of this.paths) {
      const m = compiled.regex.exec(path);
      if (m === null) continue;
      const captures: Record<string, string> = {};
      for (const [name, value] of Object.entries(m.groups ?? {})) captures[name] = value ?? "";
      return { path: compiled, captures };
    }
    return null;
  }

  async handleRequest(req: LogicalRequest): Promise<LogicalResponse | null> {
    try {
      return await this.dispatch(req);
    } catch (e) {
      throw toLogicalError(e);
    }
  }

  private async dispatch(req: LogicalRequest): Promise<LogicalResponse | null> {
    if (req.operation === "rollback") {
      await this.options.periodic?.(req.storage);
      return null;
    }
    if (req.operation === "help" && req.path === "") return this.rootHelp();

    const routed = this.cachedRoute(req.path);
    if (routed === null) throw unsupportedPath();
    const { path, captures } = routed;
    const definition = path.definition;
    const fields = definition.fields ?? {};

    // Plain loops over own keys (the order Object.entries gives): this runs on every request.
    const raw: Record<string, unknown> = {};
    const ignored: string[] = [];
    const input = req.data;
    if (input !== undefined && input !== null) {
      const arbitrary = definition.takesArbitraryInput === true;
      for (const k in input) {
        if (!Object.hasOwn(input, k)) continue;
        raw[k] = input[k];
        if (!arbitrary && !Object.hasOwn(fields, k)) ignored.push(k);
      }
    }
    const replaced: string[] = [];
    for (const k in captures) {
      if (!Object.hasOwn(captures, k)) continue;
      if (raw[k] !== undefined && raw[k] !== null) replaced.push(k);
      raw[k] = captures[k];
    }

    const op = definition.operations[req.operation];
    let handler: OperationHandler | undefined = op === undefined ? undefined : operationHandler(op);
    if (handler === undefined && req.operation === "help") handler = async () => this.pathHelp(path);
    if (handler === undefined) throw unsupportedOperation();

    const data = new FieldData(raw, fields);
    if (req.operation !== "help") {
      try {
        data.validate();
      } catch (e) {
        if (e instanceof FieldError) return errorResponse(`Field validation failed: ${e.message}`);
        throw e;
      }
    }

    // A handler's late FieldError (from data.get on a bad value) is the caller's mistake, not ours.
    let resp: LogicalResponse | null;
    try {
      resp = await handler(req, data);
    } catch (e) {
      if (e instanceof FieldError) throw invalidRequest(e.message);
      throw e;
    }
    if (resp !== null) {
      if (ignored.length > 0) {
        addWarning(resp, `Endpoint ignored these unrecognized parameters: [${ignored.sort().join(" ")}]`);
      }
      if (replaced.length > 0) {
        addWarning(
          resp,
          `Endpoint replaced the value of these parameters with the values captured from the endpoint's path: [${replaced.sort().join(" ")}]`,
        );
      }
    }
    return resp;
  }

  async handleExistenceCheck(req: LogicalRequest): Promise<ExistenceCheckResult> {
    if (req.operation !== "create" && req.operation !== "update") {
      throw toLogicalError(new Error(`incorrect operation type ${req.operation} for an existence check`));
    }
    const routed = this.route(req.path);
    if (routed === null) throw unsupportedPath();
    const check = routed.path.definition.existenceCheck;
    if (check === undefined) return { checkFound: false, exists: false };
    const raw: Record<string, unknown> = { ...(req.data ?? {}), ...routed.captures };
    const data = new FieldData(raw, routed.path.definition.fields ?? {});
    try {
      data.validate();
    } catch (e) {
      if (e instanceof FieldError) throw userError(e.message);
      throw toLogicalError(e);
    }
    try {
      return { checkFound: true, exists: await check(req, data) };
    } catch (e) {
      throw toLogicalError(e);
    }
  }

  async initialize(storage: Storage): Promise<void> {
    await this.options.initialize?.(storage);
  }

  invalidateKey(key: string): void {
    this.options.invalidate?.(key);
  }

  async cleanup(): Promise<void> {
    await this.options.cleanup?.();
  }

  private rootHelp(): LogicalResponse {
    const lines = [...this.paths]
      .sort((a, b) => (a.source < b.source ? -1 : 1))
      .map((p) => `    ${p.source}\n        ${(p.definition.helpSynopsis ?? "").trim()}`);
    const help = `## DESCRIPTION\n\n${this.help.trim()}\n\n## PATHS\n\nThe following paths are supported by this backend. To view help for\nany of the paths below, use the help command with any route matching\nthe path pattern. Note that depending on the policy of your auth token,\nyou may or may not be able to access certain paths.\n\n${lines.join("\n\n")}\n`;
    return { data: { help, see_also: null, openapi: openApiDocument(this, null) } };
  }

  private pathHelp(path: CompiledPath): LogicalResponse {
    const d = path.definition;
    const params = Object.entries(d.fields ?? {})
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, f]) => `    ${name} (${f.type})\n        ${(f.description ?? "").trim()}`);
    const help = `Request:        ${path.source.slice(1, -1)}\nMatching Route: ${path.source}\n\n${(d.helpSynopsis ?? "").trim()}\n\n## PARAMETERS\n\n${params.join("\n\n")}\n\n## DESCRIPTION\n\n${(d.helpDescription ?? "").trim()}\n`;
    return { data: { help, see_also: null, openapi: openApiDocument(this, path) } };
  }
}
