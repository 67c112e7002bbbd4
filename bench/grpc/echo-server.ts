/**
 * The echo server for layer 3's limit, run as its own process (as the plugin
 * is): mTLS with the client certificate required, on 127.0.0.1, port chosen
 * by the OS and printed on stdout. Certificates come in as JSON on stdin.
 * Exits when stdin closes (the bench process ended).
 */
import * as grpc from "@grpc/grpc-js";
import type { MtlsMaterial } from "../lib/certs.ts";
import { ECHO_SERVICE } from "./echo.ts";

async function readStdin(): Promise<string> {
  let text = "";
  for await (const chunk of process.stdin) {
    text += String(chunk);
    if (text.includes("\n")) break;
  }
  return text;
}

const m = JSON.parse(await readStdin()) as MtlsMaterial;
const server = new grpc.Server();
server.addService(ECHO_SERVICE, {
  Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
    cb(null, call.request),
});
const creds = grpc.ServerCredentials.createSsl(
  Buffer.from(m.ca),
  [{ private_key: Buffer.from(m.serverKey), cert_chain: Buffer.from(m.serverCert) }],
  true,
);
server.bindAsync("127.0.0.1:0", creds, (err, port) => {
  if (err !== null) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  process.stdout.write(`${port}\n`);
});
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
