import type { Backend } from "../../src/framework/backend.ts";
import { LogicalError } from "../../src/framework/errors.ts";
import { httpOutcome, type LogicalResponse, type Operation } from "../../src/framework/request.ts";
import { InMemoryStorage } from "../../src/framework/storage.ts";
import { createTransitBackend } from "../../src/transit/backend.ts";

/** What a client would see: the HTTP status Vault would answer with, the data, warnings and error text. */
export interface Outcome {
  status: number;
  data: Record<string, unknown>;
  warnings: string[];
  error: string | null;
}

/** A transit engine on in-memory storage, with requests answered as Vault's HTTP layer would classify them. */
export class TestEngine {
  readonly storage = new InMemoryStorage();
  readonly backend: Backend;

  constructor(backend: Backend = createTransitBackend()) {
    this.backend = backend;
  }

  async request(operation: Operation, path: string, data: Record<string, unknown> = {}): Promise<Outcome> {
    let resp: LogicalResponse | null;
    try {
      resp = await this.backend.handleRequest({ operation, path, data, storage: this.storage });
    } catch (e) {
      if (!(e instanceof LogicalError)) throw e;
      return { status: e.httpStatus, data: {}, warnings: [], error: e.message };
    }
    const { status, error } = httpOutcome(operation, resp);
    return {
      status: status ?? (resp === null ? 204 : 200),
      data: resp?.data ?? {},
      warnings: resp?.warnings ?? [],
      error: error,
    };
  }

  write(path: string, data: Record<string, unknown> = {}): Promise<Outcome> {
    return this.request("update", path, data);
  }

  read(path: string, data: Record<string, unknown> = {}): Promise<Outcome> {
    return this.request("read", path, data);
  }

  /** Like Vault's HTTP layer: create when the existence check says the item is missing, else update. */
  async post(path: string, data: Record<string, unknown> = {}): Promise<Outcome> {
    const check = await this.backend.handleExistenceCheck({
      operation: "update",
      path,
      data,
      storage: this.storage,
    });
    return this.request(check.checkFound && !check.exists ? "create" : "update", path, data);
  }

  /** A copy of every stored entry, to show a request changed nothing. */
  snapshot(): Map<string, string> {
    return new Map([...this.storage.entries].map(([k, v]) => [k, Buffer.from(v).toString("hex")]));
  }
}

export const b64 = (s: string | Uint8Array): string => Buffer.from(s).toString("base64");
export const unb64 = (s: unknown): Buffer => Buffer.from(String(s), "base64");
