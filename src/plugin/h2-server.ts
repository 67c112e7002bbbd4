/**
 * A gRPC server written directly on node:http2, serving the same service
 * definitions and handlers as @grpc/grpc-js's Server (ts-proto's grpc-js
 * output) with the few call features the plugin uses: unary calls (request,
 * metadata, callback), server streams (write, end, "cancelled") and the
 * broker's bidirectional stream ("data", "end", write, end). Per call it
 * does what the gRPC wire protocol needs and nothing else: no interceptors,
 * no channelz, no per-call stream pipeline, no compression (grpc-go sends
 * none unless asked; a compressed message is refused with UNIMPLEMENTED).
 * A unary answer is one HEADERS, one DATA and one trailing HEADERS written
 * in the same turn, so they leave in one socket write.
 *
 * Wire format (grpc/doc/PROTOCOL-HTTP2.md): each message is a 1-byte
 * compressed flag, a 4-byte big-endian length and the message; the status
 * is in trailers (grpc-status, grpc-message percent-encoded), or in the
 * response headers alone when nothing else is sent (trailers-only).
 */
import { EventEmitter } from "node:events";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import type * as grpc from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import type { RpcServer, ServerTls } from "./rpc-server.ts";

type AnyMethod = grpc.MethodDefinition<unknown, unknown>;
type Handler = (call: unknown, callback?: (err: unknown, value?: unknown) => void) => void;

const { HTTP2_HEADER_STATUS, HTTP2_HEADER_CONTENT_TYPE, HTTP2_HEADER_PATH, NGHTTP2_CANCEL } = http2.constants;

/** Response headers of every call (a fresh object each time: node:http2 takes ownership). */
function responseHeaders(): http2.OutgoingHttpHeaders {
  return { [HTTP2_HEADER_STATUS]: 200, [HTTP2_HEADER_CONTENT_TYPE]: "application/grpc" };
}

/** grpc-message: percent-encoding of bytes outside printable ASCII and of '%' itself. */
export function encodeGrpcMessage(message: string): string {
  let plain = true;
  for (let i = 0; i < message.length; i++) {
    const c = message.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x25) {
      plain = false;
      break;
    }
  }
  if (plain) return message;
  let out = "";
  for (const byte of Buffer.from(message, "utf8")) {
    out +=
      byte < 0x20 || byte > 0x7e || byte === 0x25
        ? `%${byte.toString(16).toUpperCase().padStart(2, "0")}`
        : String.fromCharCode(byte);
  }
  return out;
}

/** One length-prefixed message. */
export function frameMessage(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + payload.length);
  out[0] = 0;
  out.writeUInt32BE(payload.length, 1);
  out.set(payload, 5);
  return out;
}

/** Above this size a message's 5-byte prefix is written on its own rather than copied in front of it. */
const COPY_LIMIT = 64 * 1024;

/** The message as the buffers to write: one for small messages (one write), prefix and payload for large. */
function framed(payload: Buffer): Buffer[] {
  if (payload.length <= COPY_LIMIT) return [frameMessage(payload)];
  const prefix = Buffer.allocUnsafe(5);
  prefix[0] = 0;
  prefix.writeUInt32BE(payload.length, 1);
  return [prefix, payload];
}

/** Splits a byte stream into gRPC messages, across chunk boundaries. */
export class MessageReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** Adds a chunk; returns the complete messages it finishes, or an error text for a compressed one. */
  push(chunk: Buffer): Buffer[] | string {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: Buffer[] = [];
    while (this.buffered >= 5) {
      let head = this.chunks[0] as Buffer;
      if (head.length < 5) {
        head = Buffer.concat(this.chunks);
        this.chunks = [head];
      }
      if (head[0] !== 0) return "compressed messages are not supported";
      const size = head.readUInt32BE(1);
      if (this.buffered < 5 + size) break;
      const all = this.chunks.length === 1 ? head : Buffer.concat(this.chunks, this.buffered);
      out.push(all.subarray(5, 5 + size));
      const rest = all.subarray(5 + size);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
    }
    return out;
  }

  /** Bytes of a message begun but not finished. */
  get pending(): number {
    return this.buffered;
  }
}

/** grpc-js-like metadata over the raw header list: every value of a key, in order. */
class HeaderMetadata {
  constructor(private readonly raw: readonly string[]) {}

  get(key: string): (string | Buffer)[] {
    const out: (string | Buffer)[] = [];
    const bin = key.endsWith("-bin");
    for (let i = 0; i + 1 < this.raw.length; i += 2) {
      if (this.raw[i] !== key) continue;
      const v = this.raw[i + 1] as string;
      if (bin) for (const part of v.split(",")) out.push(Buffer.from(part.trim(), "base64"));
      else out.push(v);
    }
    return out;
  }
}

/** A server-side call with streams: the subset of grpc-js's ServerWritableStream/ServerDuplexStream used here. */
class StreamCall extends EventEmitter {
  request: unknown = undefined;
  cancelled = false;
  private headersSent = false;
  private ended = false;

  constructor(
    private readonly stream: http2.ServerHttp2Stream,
    readonly metadata: HeaderMetadata,
    private readonly method: AnyMethod,
  ) {
    super();
  }

  private sendHeaders(): void {
    if (this.headersSent) return;
    this.headersSent = true;
    this.stream.respond(responseHeaders(), { waitForTrailers: true });
    this.stream.once("wantTrailers", () => this.stream.sendTrailers({ "grpc-status": "0" }));
  }

  write(message: unknown): boolean {
    if (this.ended || this.stream.destroyed || this.stream.closed) return false;
    this.sendHeaders();
    let ok = true;
    for (const b of framed(this.method.responseSerialize(message))) ok = this.stream.write(b);
    return ok;
  }

  end(): void {
    if (this.ended || this.stream.destroyed || this.stream.closed) return;
    this.ended = true;
    this.sendHeaders();
    this.stream.end();
  }

  getPeer(): string {
    return `${this.stream.session?.socket?.remoteAddress ?? ""}:${this.stream.session?.socket?.remotePort ?? ""}`;
  }
}

/** Answers with a status and no message (trailers-only). */
function sendStatus(stream: http2.ServerHttp2Stream, code: number, details: string): void {
  if (stream.destroyed || stream.closed || stream.headersSent) return;
  const headers = responseHeaders();
  headers["grpc-status"] = String(code);
  if (details !== "") headers["grpc-message"] = encodeGrpcMessage(details);
  stream.respond(headers, { endStream: true });
}

function statusOf(err: unknown): { code: number; details: string } {
  const e = err as { code?: unknown; details?: unknown; message?: unknown };
  const code = typeof e.code === "number" ? e.code : status.UNKNOWN;
  const details = typeof e.details === "string" ? e.details : typeof e.message === "string" ? e.message : "";
  return { code, details };
}

export class H2Server implements RpcServer {
  private readonly methods = new Map<string, { def: AnyMethod; handler: Handler }>();
  private server: http2.Http2SecureServer | undefined;
  private readonly sessions = new Set<http2.ServerHttp2Session>();

  addService(service: grpc.ServiceDefinition, implementation: object): void {
    const impl = implementation as Record<string, Handler>;
    for (const [name, def] of Object.entries(service)) {
      const handler = impl[name];
      if (typeof handler === "function")
        this.methods.set(def.path, { def: def as AnyMethod, handler: handler.bind(impl) });
    }
  }

  async listen(port: number, tls: ServerTls): Promise<number> {
    const server = http2.createSecureServer({
      ca: tls.rootPem,
      cert: tls.certPem,
      key: tls.keyPem,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: "TLSv1.2",
      ALPNProtocols: ["h2"],
      // Vault's plugins have no message size limit; nghttp2's session memory cap would refuse a large batch.
      maxSessionMemory: Number.MAX_SAFE_INTEGER,
      settings: { initialWindowSize: 1 << 20 },
    });
    server.on("session", (session) => {
      this.sessions.add(session);
      session.on("close", () => this.sessions.delete(session));
      session.on("error", () => session.destroy());
    });
    server.on(
      "stream",
      (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, _flags: number, raw: string[]) =>
        this.onStream(stream, headers, raw),
    );
    // Clients refused by mTLS, or going away mid-handshake, are not errors of ours.
    server.on("tlsClientError", () => {});
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.server = server;
    return (server.address() as AddressInfo).port;
  }

  private onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, raw: string[]): void {
    stream.on("error", () => {});
    const entry = this.methods.get(String(headers[HTTP2_HEADER_PATH]));
    if (entry === undefined) {
      sendStatus(stream, status.UNIMPLEMENTED, `unknown method ${String(headers[HTTP2_HEADER_PATH])}`);
      return;
    }
    const { def, handler } = entry;
    const metadata = new HeaderMetadata(raw);
    const reader = new MessageReader();
    if (def.requestStream) {
      const call = new StreamCall(stream, metadata, def);
      stream.on("data", (chunk: Buffer) => {
        const msgs = reader.push(chunk);
        if (typeof msgs === "string") {
          sendStatus(stream, status.UNIMPLEMENTED, msgs);
          return;
        }
        for (const m of msgs) call.emit("data", def.requestDeserialize(m));
      });
      stream.on("end", () => call.emit("end"));
      this.watchClose(stream, call);
      handler(call);
      return;
    }
    let single: Buffer | undefined;
    let count = 0;
    stream.on("data", (chunk: Buffer) => {
      const msgs = reader.push(chunk);
      if (typeof msgs === "string") {
        count = -1;
        return;
      }
      for (const m of msgs) {
        single = m;
        count++;
      }
    });
    stream.on("end", () => {
      if (count < 0) {
        sendStatus(stream, status.UNIMPLEMENTED, "compressed messages are not supported");
        return;
      }
      if (count !== 1 || single === undefined || reader.pending !== 0) {
        sendStatus(
          stream,
          status.INTERNAL,
          count === 0 ? "no request message" : "one request message expected",
        );
        return;
      }
      let request: unknown;
      try {
        request = def.requestDeserialize(single);
      } catch {
        sendStatus(stream, status.INTERNAL, "error parsing the request message");
        return;
      }
      if (def.responseStream) {
        const call = new StreamCall(stream, metadata, def);
        call.request = request;
        this.watchClose(stream, call);
        handler(call);
        return;
      }
      this.unary(stream, def, handler, { request, metadata });
    });
  }

  private unary(stream: http2.ServerHttp2Stream, def: AnyMethod, handler: Handler, call: object): void {
    const callback = (err: unknown, value?: unknown): void => {
      if (stream.destroyed || stream.closed) return;
      if (err !== null && err !== undefined) {
        const s = statusOf(err);
        sendStatus(stream, s.code, s.details);
        return;
      }
      let body: Buffer[];
      try {
        body = framed(def.responseSerialize(value));
      } catch {
        sendStatus(stream, status.INTERNAL, "error serializing the response");
        return;
      }
      stream.respond(responseHeaders(), { waitForTrailers: true });
      stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      for (let i = 0; i < body.length - 1; i++) stream.write(body[i]);
      stream.end(body[body.length - 1]);
    };
    try {
      handler(call, callback);
    } catch (e) {
      callback(e);
    }
  }

  /** A stream closed by the peer before we ended it is a cancelled call. */
  private watchClose(stream: http2.ServerHttp2Stream, call: StreamCall): void {
    stream.once("close", () => {
      if (stream.rstCode === NGHTTP2_CANCEL || !stream.writableFinished) {
        call.cancelled = true;
        call.emit("cancelled");
      }
    });
  }

  tryShutdown(done: () => void): void {
    const server = this.server;
    if (server === undefined) {
      done();
      return;
    }
    server.close(() => done());
    // GOAWAY: calls in flight answer, new ones are refused; each session closes once its streams have.
    for (const s of this.sessions) s.close();
  }

  forceShutdown(): void {
    for (const s of this.sessions) s.destroy();
    this.sessions.clear();
    this.server?.close();
  }
}
