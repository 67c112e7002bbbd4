/**
 * Layer 4's limit: a bare node:http server in its own process that reads the
 * request body and answers every request with one fixed JSON body the size
 * of an encrypt response. Port (chosen by the OS) on stdout; exits when
 * stdin closes.
 */
import http from "node:http";

const body = Buffer.from(
  JSON.stringify({
    request_id: "00000000-0000-0000-0000-000000000000",
    lease_id: "",
    renewable: false,
    lease_duration: 0,
    data: { ciphertext: `vault:v1:${"A".repeat(124)}`, key_version: 1 },
    wrap_info: null,
    warnings: null,
    auth: null,
  }),
);

const server = http.createServer((req, res) => {
  req.on("data", () => {});
  req.on("end", () => {
    res.writeHead(200, { "content-type": "application/json", "content-length": body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const addr = server.address();
  process.stdout.write(`${typeof addr === "object" && addr !== null ? addr.port : 0}\n`);
});
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
