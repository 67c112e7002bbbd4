/**
 * The HTTP fuzz of the dev host, shared by fuzz-http.test.ts (the transit
 * engine in process) and fuzz-http-plugin.test.ts (the real plugin process
 * behind src/pluginhost). See fuzz-http.test.ts for what is sent and checked.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { Agent, request as httpRequest } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HostConfig, parseConfig } from "../../../src/host/config.ts";
import { DevHost } from "../../../src/host/host.ts";
import type { PluginLauncher } from "../../../src/protocol/mount-backend.ts";
import type { Logger } from "../../../src/util/logger.ts";
import { JsonLogger } from "../../../src/util/logger.ts";
import { jsonValue } from "./arbitraries.ts";

const SEED = Number(process.env["FUZZ_SEED"] ?? 20261126);
const TOKEN = "hvs.fuzz-http-root-token";
const MAX_BODY = 256 * 1024;
const TIMEOUT_MS = 15_000;
const ENVELOPE_KEYS = [
  "auth",
  "data",
  "lease_duration",
  "lease_id",
  "mount_type",
  "renewable",
  "request_id",
  "warnings",
  "wrap_info",
].sort();

const b64 = (s: string | Uint8Array) => Buffer.from(s).toString("base64");

// ---- arbitraries ----

function base64ish(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.uint8Array({ maxLength: 64 }).map((b) => b64(b)),
    fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => b64(b).replace(/=+$/, "")),
    fc.string({ maxLength: 40 }),
    fc.string({ unit: "grapheme", maxLength: 20 }),
    fc.constantFrom(
      "",
      "=",
      "==",
      "a===",
      "YQ",
      "YR==",
      "Zm9v\n",
      " Zm9v",
      "Zm9v!",
      "\u00e9t\u00e9",
      "\u0000",
    ),
  );
}

function versionish(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom(0, -1, 1, 2, 2 ** 31, 2 ** 53, -(2 ** 53), 1e308, 1.5, "1", "x", "", true, null, [1], {}),
    fc.integer(),
  );
}

function ciphertextish(cts: string[]): fc.Arbitrary<string> {
  const base = fc.constantFrom(...cts);
  return fc.oneof(
    base,
    fc.tuple(base, fc.nat(), fc.integer({ min: 1, max: 255 })).map(([ct, i, x]) => {
      const raw = Buffer.from(ct.slice(9), "base64");
      if (raw.length === 0) return ct;
      raw[i % raw.length] = (raw[i % raw.length] ?? 0) ^ x;
      return ct.slice(0, 9) + raw.toString("base64");
    }),
    fc.tuple(base, fc.nat()).map(([ct, n]) => ct.slice(0, n % (ct.length + 1))),
    fc.tuple(base, versionish()).map(([ct, v]) => `vault:v${String(v)}:${ct.slice(9)}`),
    fc.string({ maxLength: 60 }),
  );
}

const FIELDS = [
  "plaintext",
  "ciphertext",
  "input",
  "context",
  "nonce",
  "associated_data",
  "key_version",
  "batch_input",
  "type",
  "exportable",
  "derived",
  "convergent_encryption",
  "min_decryption_version",
  "min_encryption_version",
  "min_available_version",
  "deletion_allowed",
  "auto_rotate_period",
  "bits",
  "bytes",
  "format",
  "hash_algorithm",
  "algorithm",
  "signature",
  "hmac",
  "backup",
  "name",
  "size",
  "disable_upsert",
  "plugin",
  "mounts",
  "description",
  "config",
];

function fieldValue(name: string, cts: string[]): fc.Arbitrary<unknown> {
  const specific: Record<string, fc.Arbitrary<unknown>> = {
    plaintext: base64ish(),
    input: base64ish(),
    context: base64ish(),
    nonce: base64ish(),
    associated_data: base64ish(),
    backup: base64ish(),
    ciphertext: ciphertextish(cts),
    signature: ciphertextish(cts),
    hmac: ciphertextish(cts),
    key_version: versionish(),
    min_decryption_version: versionish(),
    min_encryption_version: versionish(),
    min_available_version: versionish(),
    bits: fc.constantFrom(0, 128, 256, 512, -256, "256", "x"),
    bytes: fc.oneof(fc.constantFrom(0, 1, 32, -1, 2 ** 40, "16", "x"), fc.integer({ min: -10, max: 300 })),
    type: fc.constantFrom(
      "aes128-gcm96",
      "aes256-gcm96",
      "chacha20-poly1305",
      "ed25519",
      "hmac",
      "",
      "transit",
      "kv",
    ),
    auto_rotate_period: fc.constantFrom(0, 59, 3600, "1h", "-1h", "forever", 2 ** 40),
    batch_input: fc.oneof(
      fc.array(
        fc.record(
          {
            plaintext: base64ish(),
            ciphertext: ciphertextish(cts),
            context: base64ish(),
            key_version: versionish(),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 5 },
      ),
      jsonValue(),
    ),
  };
  return fc.oneof(
    { arbitrary: specific[name] ?? jsonValue(), weight: 4 },
    { arbitrary: jsonValue(), weight: 1 },
  );
}

const KNOWN_PATHS = [
  "transit/keys/k",
  "transit/keys/e",
  "transit/keys/new",
  "transit/keys",
  "transit/keys/k/rotate",
  "transit/keys/k/config",
  "transit/keys/k/trim",
  "transit/encrypt/k",
  "transit/encrypt/upserted",
  "transit/decrypt/k",
  "transit/rewrap/k",
  "transit/datakey/plaintext/k",
  "transit/datakey/wrapped/k",
  "transit/hmac/k",
  "transit/hmac/h/sha2-512",
  "transit/sign/e",
  "transit/verify/e",
  "transit/hash",
  "transit/hash/sha3-256",
  "transit/random",
  "transit/random/64",
  "transit/random/platform/16",
  "transit/export/encryption-key/k",
  "transit/export/signing-key/e/1",
  "transit/backup/k",
  "transit/restore",
  "transit/restore/restored",
  "transit/cache-config",
  "transit/config/keys",
  "transit/",
  "transit",
  "absent/keys/k",
  "absent/encrypt/k",
  "sys/health",
  "sys/mounts",
  "sys/mounts/fuzz",
  "sys/mounts/absent",
  "sys/mounts/transit",
  "sys/key-status",
  "sys/rotate",
  "sys/seal-status",
  "sys/plugins/reload/backend",
  "sys/policies/acl",
  "sys",
  "auth/token/lookup-self",
  "nomount/keys/k",
  "",
];

const SEGMENT_JUNK = fc.oneof(
  fc.constantFrom(
    "..",
    ".",
    "",
    "%2e%2e",
    "%2F",
    "%00",
    "%ff",
    "%",
    "%zz",
    "%c0%af",
    "~",
    "keys",
    "k",
    "*",
    "?",
  ),
  fc.string({ unit: "grapheme", maxLength: 12 }).map(encodeURIComponent),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
  fc.integer({ min: 1, max: 20_000 }).map((n) => "a".repeat(n)),
);

function pathArb(): fc.Arbitrary<string> {
  const known = fc.constantFrom(...KNOWN_PATHS);
  return fc.oneof(
    { arbitrary: known, weight: 10 },
    { arbitrary: fc.tuple(known, SEGMENT_JUNK).map(([p, j]) => `${p}/${j}`), weight: 2 },
    { arbitrary: fc.array(SEGMENT_JUNK, { minLength: 1, maxLength: 5 }).map((s) => s.join("/")), weight: 2 },
    {
      arbitrary: fc.tuple(known, SEGMENT_JUNK).map(([p, j]) => p.replace(/\/[^/]*$/, `/${j}`)),
      weight: 1,
    },
  );
}

function queryArb(): fc.Arbitrary<string> {
  const pair = fc.oneof(
    fc.constantFrom("list=true", "list=1", "list=maybe", "list=", "help=1", "help=", "list=false"),
    fc
      .tuple(fc.oneof(fc.constantFrom(...FIELDS), fc.string({ maxLength: 6 })), fc.string({ maxLength: 20 }))
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`),
    fc.constantFrom("%zz=1", "a=%ff", "&&&", "=", "a=1&a=2&a=3"),
  );
  return fc.oneof(
    { arbitrary: fc.constant(""), weight: 6 },
    { arbitrary: fc.array(pair, { minLength: 1, maxLength: 4 }).map((p) => `?${p.join("&")}`), weight: 2 },
  );
}

function deepNesting(depth: number, kind: "array" | "object"): string {
  return kind === "array"
    ? `${"[".repeat(depth)}${"]".repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
}

type Body = { text?: Buffer | string; contentType?: string };

function bodyArb(cts: string[]): fc.Arbitrary<Body> {
  const fieldsObject = fc
    .dictionary(
      fc.oneof(
        { arbitrary: fc.constantFrom(...FIELDS), weight: 9 },
        { arbitrary: fc.string({ maxLength: 6 }), weight: 1 },
      ),
      fc.constant(null),
      { maxKeys: 6 },
    )
    .chain((shape) => fc.record(Object.fromEntries(Object.keys(shape).map((k) => [k, fieldValue(k, cts)]))));
  const json = (v: unknown) => ({ text: JSON.stringify(v), contentType: "application/json" });
  return fc.oneof(
    { arbitrary: fieldsObject.map(json), weight: 12 },
    { arbitrary: jsonValue().map(json), weight: 2 },
    { arbitrary: fc.constant<Body>({}), weight: 2 },
    { arbitrary: fc.constant<Body>({ text: "", contentType: "application/json" }), weight: 1 },
    {
      arbitrary: fc.string({ maxLength: 80 }).map((t) => ({ text: t, contentType: "application/json" })),
      weight: 2,
    },
    {
      arbitrary: fc
        .uint8Array({ maxLength: 200 })
        .map((b) => ({ text: Buffer.from(b), contentType: "application/json" })),
      weight: 1,
    },
    {
      arbitrary: fc
        .tuple(
          fc.integer({ min: 1, max: 60_000 }),
          fc.constantFrom<"array" | "object">("array", "object"),
          fc.constantFrom(...FIELDS),
        )
        .map(([d, kind, f]) => ({
          text: `{"${f}": ${deepNesting(Math.min(d, kind === "object" ? 40_000 : 100_000), kind)}}`,
          contentType: "application/json",
        })),
      weight: 1,
    },
    {
      // Huge strings, below and past the body limit (413).
      arbitrary: fc
        .tuple(
          fc.constantFrom("plaintext", "input", "ciphertext", "context", "x"),
          fc.integer({ min: 1, max: MAX_BODY * 1.5 }),
        )
        .map(([f, n]) => json({ [f]: "A".repeat(n) })),
      weight: 1,
    },
    {
      arbitrary: fc.tuple(fc.constantFrom(...FIELDS), fc.string({ maxLength: 30 })).map(([k, v]) => ({
        text: `${k}=${encodeURIComponent(v)}&x=1`,
        contentType: "application/x-www-form-urlencoded",
      })),
      weight: 1,
    },
    {
      arbitrary: fc
        .tuple(
          fieldsObject,
          fc.constantFrom(
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/json; charset=utf-16",
            "\u00ff",
          ),
        )
        .map(([o, contentType]) => ({ text: `\ufeff${JSON.stringify(o)}`, contentType })),
      weight: 1,
    },
  );
}

function headersArb(): fc.Arbitrary<Record<string, string>> {
  const token = fc.oneof(
    { arbitrary: fc.constant<[string, string] | null>(["X-Vault-Token", TOKEN]), weight: 14 },
    { arbitrary: fc.constant<[string, string] | null>(["Authorization", `Bearer ${TOKEN}`]), weight: 2 },
    { arbitrary: fc.constant<[string, string] | null>(null), weight: 1 },
    {
      arbitrary: fc
        .constantFrom("", "hvs.wrong", `${TOKEN}x`, TOKEN.slice(0, -1), "x".repeat(4000), " ", "Bearer")
        .map((t): [string, string] => ["X-Vault-Token", t]),
      weight: 1,
    },
    {
      arbitrary: fc
        .constantFrom("Basic abc", "Bearer", "Bearer ", `bearer   ${TOKEN}  `, `Bearer ${TOKEN}x`)
        .map((t): [string, string] => ["Authorization", t]),
      weight: 1,
    },
  );
  const extra = fc.oneof(
    { arbitrary: fc.constant<[string, string][]>([]), weight: 8 },
    {
      arbitrary: fc.array(
        fc.oneof(
          fc.constantFrom<[string, string]>(
            ["X-Vault-Wrap-TTL", "60s"],
            ["X-Vault-Request", "true"],
            ["X-Vault-Namespace", "ns1/"],
            ["Cookie", "a=b"],
            ["Accept", "*/*"],
            ["Expect", "100-continue"],
          ),
          fc
            .tuple(fc.stringMatching(/^X-[A-Za-z0-9-]{1,20}$/), fc.stringMatching(/^[\x20-\x7e]{0,60}$/))
            .map(([k, v]): [string, string] => [k, v.trim()]),
        ),
        { maxLength: 3 },
      ),
      weight: 1,
    },
  );
  return fc.tuple(token, extra).map(([t, e]) => {
    const h: Record<string, string> = {};
    if (t !== null) h[t[0]] = t[1];
    for (const [k, v] of e) h[k] = v;
    return h;
  });
}

const METHODS = fc.oneof(
  { arbitrary: fc.constantFrom("GET", "POST", "PUT", "DELETE", "LIST"), weight: 12 },
  { arbitrary: fc.constantFrom("HEAD", "PATCH", "OPTIONS", "TRACE", "FOO", "list", "Get"), weight: 1 },
);

/** Methods sent without a body (a TRACE must not carry content, RFC 9110 9.3.8). */
const NO_BODY = new Set(["GET", "HEAD", "TRACE"]);

// ---- checks ----

export interface HttpFuzzSuite {
  /** Names the describe block and the FUZZ-RESULT line's suite. */
  name: string;
  title: string;
  runs: number;
  /** The host's plugin launcher; mounts in `absent` must fail to set up. */
  launcher: (absent: string[], config: HostConfig, logger: Logger) => PluginLauncher;
  timeoutMs?: number;
}

/** Declares the suite: a dev host on a fresh data directory, the random requests, the raw-socket abuse. */
export function defineHttpFuzz(suite: HttpFuzzSuite): void {
  const RUNS = suite.runs;
  let dir: string;
  let host: DevHost;
  let port: number;
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const logs: string[] = [];
  let cases = 0;
  const statusCounts = new Map<number, number>();
  const recent: string[] = [];
  /** Answers followed on the same connection by a stray second response (none expected). */
  let extraAfterClose = 0;
  /** 500s with a Vault plain error's text (see check()). */
  let vaultPlain500 = 0;

  interface Answer {
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: Buffer;
  }

  /**
   * The first response of a raw packet (status, headers, Content-Length body):
   * used when the host wrote a second response after a "Connection: close"
   * one, which Node's client parser refuses as a whole.
   */
  function firstResponse(raw: Buffer, parsed: number): Answer {
    let text = raw.subarray(0, parsed).toString("latin1");
    let skipped = 0;
    // Interim answers (100 Continue) come first and have no body.
    while (/^HTTP\/1\.1 1\d\d/.test(text)) {
      const cut = text.indexOf("\r\n\r\n") + 4;
      skipped += cut;
      text = text.slice(cut);
    }
    raw = raw.subarray(skipped);
    parsed -= skipped;
    const end = text.indexOf("\r\n\r\n");
    const [statusLine, ...lines] = text.slice(0, end).split("\r\n");
    const headers: Record<string, string> = {};
    for (const l of lines) {
      const c = l.indexOf(":");
      headers[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim();
    }
    return {
      status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine ?? "")?.[1] ?? 0),
      headers,
      body: raw.subarray(end + 4, Math.min(parsed, end + 4 + Number(headers["content-length"] ?? 0))),
    };
  }

  function send(
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: Buffer | string,
  ): Promise<Answer> {
    // Node's client sends a DELETE, OPTIONS or TRACE body with neither Content-Length nor
    // chunked framing: the server must then read those bytes as the next request. Frame it.
    if (body !== undefined) headers = { ...headers, "Content-Length": String(Buffer.byteLength(body)) };
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: "127.0.0.1", port, method, path, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on("error", reject);
      });
      req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms (hang)`)));
      req.on("error", (e: Error & { code?: string; rawPacket?: Buffer; bytesParsed?: number }) => {
        if (e.code === "HPE_CLOSED_CONNECTION" && e.rawPacket !== undefined && e.bytesParsed !== undefined) {
          extraAfterClose++;
          resolve(firstResponse(e.rawPacket, e.bytesParsed));
          return;
        }
        reject(e);
      });
      if (body === undefined) req.end();
      else req.end(body);
    });
  }

  function check(method: string, path: string, a: Answer): string | null {
    const status = a.status;
    statusCounts.set(status, (statusCounts.get(status) ?? 0) + 1);
    const text = a.body.toString("utf8");
    if (status >= 500) {
      const deliberate =
        status === 500 &&
        (/could not be set up in plugin/.test(text) || (method === "HEAD" && text === "")) &&
        (path.startsWith("absent") || path.startsWith("sys/plugins/reload"));
      // Vault answers some callers' mistakes with 500 (a plain Go error from the handler, its text
      // kept); an unexpected exception in the engine would be the generic "internal error", and a
      // storage failure (none is injected here; paths of any length are stored) a "storage ..." text.
      const vaultPlain =
        !deliberate &&
        status === 500 &&
        /^\{"errors":\["(?!internal error"|storage )[^"]/.test(text) &&
        !path.startsWith("sys/");
      if (vaultPlain) vaultPlain500++;
      if (!deliberate && !vaultPlain) return `5xx: ${status} ${text.slice(0, 300)}`;
    }
    if (status === 204 || method === "HEAD") return a.body.length === 0 ? null : "a body with 204 or HEAD";
    if ((status === 400 || status === 431) && a.body.length === 0 && a.headers["connection"] === "close")
      return null; // refused by Node's HTTP parser before the host saw it
    if (!String(a.headers["content-type"]).startsWith("application/json")) {
      return `content type ${String(a.headers["content-type"])} for ${status} ${text.slice(0, 100)}`;
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return `not JSON: ${text.slice(0, 200)}`;
    }
    if (typeof body !== "object" || body === null || Array.isArray(body))
      return `not a JSON object: ${text.slice(0, 200)}`;
    const o = body as Record<string, unknown>;
    if ("errors" in o) {
      const errors = o["errors"];
      if (!Array.isArray(errors) || errors.some((e) => typeof e !== "string"))
        return `bad errors: ${text.slice(0, 200)}`;
      if (status < 400) return `errors with ${status}`;
      return null;
    }
    const isMount = !path.startsWith("sys") && !path.startsWith("auth/");
    if (status >= 400) {
      // A failed batch keeps the envelope with an error per item, as Vault's.
      const items = (o["data"] as { batch_results?: unknown } | null)?.batch_results;
      if (!Array.isArray(items) || !items.some((r) => typeof (r as { error?: unknown }).error === "string"))
        return `${status} without errors: ${text.slice(0, 200)}`;
    }
    if (isMount && !("help" in o)) {
      const keys = Object.keys(o).sort();
      if (JSON.stringify(keys) !== JSON.stringify(ENVELOPE_KEYS)) return `envelope keys ${keys.join(",")}`;
      if (o["mount_type"] !== "transit" || typeof o["request_id"] !== "string") return "envelope fields";
    }
    return null;
  }

  async function seed(): Promise<string[]> {
    const h = { "X-Vault-Token": TOKEN, "Content-Type": "application/json" };
    const post = async (p: string, body: unknown) => {
      const r = await send("POST", `/v1/${p}`, h, JSON.stringify(body));
      if (r.status >= 300) throw new Error(`seed ${p}: ${r.status} ${r.body.toString()}`);
      return r.body.length === 0 ? {} : (JSON.parse(r.body.toString()) as { data: Record<string, unknown> });
    };
    await post("transit/keys/k", { exportable: true, allow_plaintext_backup: true });
    await post("transit/keys/k/rotate", {});
    await post("transit/keys/e", { type: "ed25519" });
    await post("transit/keys/h", { type: "hmac" });
    await post("transit/keys/d", { derived: true });
    const cts: string[] = [];
    for (const pt of ["", "a", "hello world"]) {
      const r = (await post("transit/encrypt/k", { plaintext: b64(pt) })) as { data: { ciphertext: string } };
      cts.push(r.data.ciphertext);
    }
    return cts;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "fuzz-http-"));
    const parsed = parseConfig(["--listen-address", "127.0.0.1:0", "--data-dir", dir], {});
    if (parsed.help) throw new Error("unreachable");
    const config: HostConfig = {
      ...parsed.config,
      mounts: ["transit/", "absent/"],
      rootTokenId: TOKEN,
      maxRequestSize: MAX_BODY,
      rollbackIntervalSeconds: 0,
    };
    const logger = new JsonLogger((line) => logs.push(line), "info");
    const started = await DevHost.start({
      config,
      launcher: suite.launcher(["absent/"], config, logger),
      logger,
    });
    host = started.host;
    port = Number(new URL(started.info.address).port);
  });

  afterAll(async () => {
    agent.destroy();
    await host?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  describe(suite.title, () => {
    it(
      `${RUNS} random requests: no 5xx but Vault's own 500s, no hang, well-formed answers`,
      async () => {
        const cts = await seed();
        const started = performance.now();
        await fc.assert(
          fc.asyncProperty(
            METHODS,
            pathArb(),
            queryArb(),
            headersArb(),
            bodyArb(cts),
            async (method, path, query, headers, body) => {
              cases++;
              // Keep the mounts the fuzz needs: unmounting transit would turn the rest into 404s.
              if (method === "DELETE" && /^sys\/mounts\/(transit|absent)\/?$/.test(path)) return;
              const h = { ...headers };
              if (body.contentType !== undefined) h["Content-Type"] = body.contentType;
              recent.push(
                `${method} ${path}${query} ${JSON.stringify(headers)} ${String(body.text ?? "").slice(0, 80)}`,
              );
              if (recent.length > 4) recent.shift();
              const a = await send(
                method,
                `/v1/${path}${query}`,
                h,
                NO_BODY.has(method) ? undefined : body.text,
              );
              const problem = check(method, path, a);
              expect(
                problem,
                `${method} /v1/${path}${query} ${JSON.stringify(headers).slice(0, 200)} ${String(body.text ?? "").slice(0, 200)}`,
              ).toBeNull();
            },
          ),
          { numRuns: RUNS, seed: SEED, endOnFailure: true },
        );
        // Still alive and serving.
        const health = await send("GET", "/v1/sys/health", {});
        expect(health.status).toBe(200);
        const enc = await send(
          "POST",
          "/v1/transit/encrypt/k",
          { "X-Vault-Token": TOKEN },
          JSON.stringify({ plaintext: "YQ==" }),
        );
        expect(enc.status).toBe(200);
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        const statuses = [...statusCounts]
          .sort((a, b) => a[0] - b[0])
          .map(([s, n]) => `${s}:${n}`)
          .join(",");
        console.log(
          `FUZZ-RESULT suite=${suite.name} cases=${cases} seconds=${seconds} statuses=${statuses} stray_second_responses=${extraAfterClose} vault_plain_500=${vaultPlain500}`,
        );
      },
      suite.timeoutMs ?? 900_000,
    );

    it("CONNECT, garbage request lines, a LIST without a path and a half-sent head do not hang or kill the host", async () => {
      const raw = (text: string, wait = 2000) =>
        new Promise<string>((resolve) => {
          const s = connect(port, "127.0.0.1");
          let out = "";
          s.on("data", (c) => {
            out += c.toString("latin1");
          });
          const done = () => resolve(out);
          s.on("close", done);
          s.on("error", done);
          s.write(text);
          setTimeout(() => {
            s.destroy();
            done();
          }, wait);
        });
      for (const text of [
        "CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: x\r\n\r\n",
        "GARBAGE\r\n\r\n",
        "LIST\r\n\r\n",
        "LIST /v1/transit/keys HTTP/1.1\r\n",
        `LIST /v1/transit/keys HTTP/1.1\r\nX-Vault-Token: ${TOKEN}\r\n${"X-A: b\r\n".repeat(20000)}\r\n`,
        "GET /v1/sys/health HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        "POST /v1/transit/encrypt/k HTTP/1.1\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n",
        "\u0000\u0001\u0002\r\n\r\n",
      ]) {
        const out = await raw(text, 300);
        expect(out.startsWith("HTTP/1.1 5")).toBe(false);
      }
      expect((await send("GET", "/v1/sys/health", {})).status).toBe(200);
      const list = await raw(`LIST /v1/transit/keys HTTP/1.1\r\nX-Vault-Token: ${TOKEN}\r\n\r\n`);
      expect(list).toMatch(/^HTTP\/1\.1 200/);
    });
  });
}
