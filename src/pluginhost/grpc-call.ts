/**
 * Unary gRPC calls to the plugin with a deadline, and gRPC errors in words.
 * The deadlines are Vault's.
 */
import * as grpc from "@grpc/grpc-js";

/** Vault's DefaultMaxRequestDuration. */
export const REQUEST_DEADLINE_MS = 90_000;
export const SETUP_DEADLINE_MS = 60_000;
export const HEALTH_DEADLINE_MS = 10_000;

export type Callback<T> = (error: grpc.ServiceError | null, response: T) => void;

export type UnaryInvoke<T> = (
  md: grpc.Metadata,
  options: Partial<grpc.CallOptions>,
  cb: Callback<T>,
) => grpc.ClientUnaryCall;

export function unaryCall<T>(invoke: UnaryInvoke<T>, md: grpc.Metadata, deadlineMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    invoke(md, { deadline: Date.now() + deadlineMs }, (e, r) => (e ? reject(e) : resolve(r)));
  });
}

export function grpcErrorText(e: unknown): string {
  const se = e as Partial<grpc.ServiceError>;
  if (typeof se.code === "number") return `${grpc.status[se.code] ?? se.code}: ${se.details ?? se.message}`;
  return e instanceof Error ? e.message : String(e);
}
