/**
 * Vault clients send the non-standard HTTP method LIST (hvac, node-vault, the
 * Vault CLI for some paths). Node's HTTP parser (llhttp) rejects unknown
 * methods with a clientError before any handler runs, so the dev host takes
 * those requests over: it reads the request line and headers from the raw
 * bytes, gives the host's normal handler a real IncomingMessage and
 * ServerResponse on that socket, and closes the connection after answering
 * (the parser of that connection cannot go on). A LIST request has no body.
 */
import { IncomingMessage, type Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";

const MAX_HEAD = 64 * 1024;
const HEAD_TIMEOUT_MS = 10_000;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export function acceptListMethod(server: Server, handler: Handler): void {
  server.on("clientError", (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Socket) => {
    const raw = err.rawPacket;
    if (
      err.code === "HPE_INVALID_METHOD" &&
      raw !== undefined &&
      raw.subarray(0, 5).toString("latin1") === "LIST "
    ) {
      takeOver(socket, raw, handler);
      return;
    }
    if (socket.writable) {
      const status =
        err.code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : "400 Bad Request";
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    } else {
      socket.destroy();
    }
  });
}

function takeOver(socket: Socket, first: Buffer, handler: Handler): void {
  // Node's own parser is done with this socket: stop feeding it.
  socket.removeAllListeners("data");
  socket.removeAllListeners("end");
  socket.removeAllListeners("timeout");
  let buffered = first;
  const timer = setTimeout(() => socket.destroy(), HEAD_TIMEOUT_MS);
  const tryParse = (): boolean => {
    const end = buffered.indexOf("\r\n\r\n");
    if (end === -1) {
      if (buffered.length > MAX_HEAD) socket.destroy();
      return false;
    }
    clearTimeout(timer);
    socket.removeListener("data", onData);
    dispatch(socket, buffered.subarray(0, end).toString("latin1"), handler);
    return true;
  };
  const onData = (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    tryParse();
  };
  if (!tryParse()) socket.on("data", onData);
}

function dispatch(socket: Socket, head: string, handler: Handler): void {
  const [requestLine, ...headerLines] = head.split("\r\n");
  const m = /^LIST (\S+) HTTP\/1\.([01])$/.exec(requestLine ?? "");
  if (m === null) {
    socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    return;
  }
  const req = new IncomingMessage(socket);
  req.method = "LIST";
  req.url = m[1]!;
  req.httpVersionMajor = 1;
  req.httpVersionMinor = Number(m[2]);
  req.httpVersion = `1.${m[2]}`;
  const headers: Record<string, string> = {};
  const rawHeaders: string[] = [];
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    rawHeaders.push(name, value);
    const key = name.toLowerCase();
    headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
  }
  req.headers = headers;
  req.rawHeaders = rawHeaders;
  req.complete = true;
  req.push(null);
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket);
  res.on("finish", () => {
    res.detachSocket(socket);
    socket.end();
  });
  handler(req, res);
}
