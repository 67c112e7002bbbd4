/**
 * The dev host's HTTP mapping (Vault's http/logical.go rules), through real
 * HTTP and a real lmdb store, with an in-process stand-in plugin. The real
 * plugin process is exercised by e2e.test.ts.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HostConfig, parseConfig } from "../../src/host/config.ts";
import { DevHost } from "../../src/host/host.ts";
import { jsonNestsDeeperThan, MAX_JSON_DEPTH } from "../../src/host/http/vault-http.ts";
import { JsonLogger } from "../../src/util/logger.ts";
import { type StandinControl, standinPlugin } from "./helpers/standin.ts";

const TOKEN = "hvs.test-root-token-http";
let dir: string;
let host: DevHost;
let base: string;
let plugin: StandinControl;
const logs: string[] = [];

function config(overrides: Partial<HostConfig> = {}): HostConfig {
  const parsed = parseConfig(["--listen-address", "127.0.0.1:0", "--data-dir", dir], {});
  if (parsed.help) throw new Error("unreachable");
  return {
    ...parsed.config,
    rootTokenId: TOKEN,
    maxRequestSize: 64 * 1024,
    rollbackIntervalSeconds: 0,
    ...overrides,
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "devhost-http-"));
  plugin = standinPlugin();
  const started = await DevHost.start({
    config: config(),
    launcher: plugin.launcher,
    logger: new JsonLogger((line) => logs.push(line), "debug"),
  });
  host = started.host;
  base = `${started.info.address}/v1`;
});

afterAll(async () => {
  await host?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  body: unknown;
  text: string;
  headers: Headers;
}

async function call(
  method: string,
  path: string,
  opts: { body?: unknown; raw?: string; token?: string | null; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token !== null) headers["X-Vault-Token"] = opts.token ?? TOKEN;
  let body: string | undefined;
  if (opts.raw !== undefined) body = opts.raw;
  else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers["Content-Type"] = "application/json";
  }
  const res = await fetch(`${base}/${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text === "" ? null : JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}

/** Node's fetch refuses the LIST method; Vault clients send it, so use http.request. */
function list(path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${base}/${path}`,
      { method: "LIST", headers: { "X-Vault-Token": TOKEN } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          resolve({
            status: res.statusCode ?? 0,
            body: text === "" ? null : JSON.parse(text),
            text,
            headers: new Headers(),
          });
        });
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("access", () => {
  it("sys/health needs no token", async () => {
    const r = await call("GET", "sys/health", { token: null });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ initialized: true, sealed: false, standby: false });
  });

  it("every other path needs the root token: 403 permission denied", async () => {
    for (const token of [null, "", "hvs.wrong", `${TOKEN}x`]) {
      const r = await call("GET", "transit/items/a", { token });
      expect(r.status).toBe(403);
      expect(r.body).toEqual({ errors: ["permission denied"] });
    }
    expect((await call("GET", "sys/mounts", { token: null })).status).toBe(403);
    expect((await call("POST", "sys/mounts/x", { token: "nope", body: { type: "transit" } })).status).toBe(
      403,
    );
  });

  it("accepts Authorization: Bearer", async () => {
    const r = await call("GET", "sys/mounts", { token: null, headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(r.status).toBe(200);
  });
});

describe("logical requests", () => {
  it("POST decides create or update with the existence check", async () => {
    const first = await call("POST", "transit/items/alpha", { body: { value: "one" } });
    expect(first.status).toBe(200);
    expect((first.body as { data: unknown }).data).toEqual({ created: true });
    const second = await call("PUT", "transit/items/alpha", { body: { value: "two" } });
    expect(second.status).toBe(204);
    expect(second.text).toBe("");
    expect(plugin.seen).toContain("transit/:create:items/alpha");
    expect(plugin.seen).toContain("transit/:update:items/alpha");
  });

  it("GET answers with Vault's envelope", async () => {
    const r = await call("GET", "transit/items/alpha");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/json");
    const body = r.body as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(
      [
        "auth",
        "data",
        "lease_duration",
        "lease_id",
        "mount_type",
        "renewable",
        "request_id",
        "warnings",
        "wrap_info",
      ].sort(),
    );
    expect(body).toMatchObject({
      lease_id: "",
      renewable: false,
      lease_duration: 0,
      data: { value: "two" },
      wrap_info: null,
      warnings: null,
      auth: null,
      mount_type: "transit",
    });
    expect(body["request_id"]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("a read of nothing is 404 with no errors", async () => {
    const r = await call("GET", "transit/items/missing");
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ errors: [] });
  });

  it("LIST and GET ?list=true list; an empty list is 404", async () => {
    await call("POST", "transit/items/beta", { body: { value: "b" } });
    const a = await list("transit/items");
    expect(a.status).toBe(200);
    expect((a.body as { data: unknown }).data).toEqual({ keys: ["alpha", "beta"] });
    const b = await call("GET", "transit/items?list=true");
    expect((b.body as { data: unknown }).data).toEqual({ keys: ["alpha", "beta"] });
    expect(plugin.seen).toContain("transit/:list:items/");
    expect((await call("GET", "transit/items?list=maybe")).status).toBe(400);
  });

  it("DELETE is 204", async () => {
    const r = await call("DELETE", "transit/items/beta");
    expect(r.status).toBe(204);
    expect((await call("GET", "transit/items/beta")).status).toBe(404);
  });

  it("passes query parameters of a GET and warnings", async () => {
    const r = await call("GET", "transit/echo?a=1&b=2&b=3");
    expect((r.body as { data: unknown }).data).toEqual({ got: { a: "1", b: ["2", "3"] }, op: "read" });
    const w = await call("POST", "transit/echo", { body: { x: 1 } });
    expect(w.body).toMatchObject({ data: { got: { x: 1 } }, warnings: ["a warning"] });
  });

  it("accepts a form body, and a JSON body sent as a form (curl -d)", async () => {
    const form = await call("POST", "transit/echo", {
      raw: "x=1&y=two",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    expect((form.body as { data: { got: unknown } }).data.got).toEqual({ x: "1", y: "two" });
    const json = await call("POST", "transit/echo", {
      raw: '{"x": 2}',
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    expect((json.body as { data: { got: unknown } }).data.got).toEqual({ x: 2 });
  });

  it("help: GET ?help=1 returns the help data", async () => {
    const r = await call("GET", "transit/items/alpha?help=1");
    expect(r.status).toBe(200);
    expect(typeof (r.body as { help: unknown }).help).toBe("string");
  });
});

describe("errors", () => {
  it("error responses and error kinds get Vault's status codes", async () => {
    const cases: [string, number, string[]][] = [
      ["response", 400, ["bad thing"]],
      ["denied", 403, ["permission denied"]],
      ["coded", 418, ["teapot"]],
      ["internal", 500, ["internal error"]],
      ["unsupported", 405, ["unsupported operation"]],
    ];
    for (const [how, status, errors] of cases) {
      const r = await call("POST", `transit/fail/${how}`, { body: {} });
      expect(r.status, how).toBe(status);
      expect(r.body, how).toEqual({ errors });
    }
    expect(JSON.stringify(logs)).not.toContain("secret detail");
  });

  it("an unknown path inside a mount is 404 unsupported path", async () => {
    const r = await call("GET", "transit/nowhere");
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ errors: ["unsupported path"] });
  });

  it("an unknown mount is 404 no handler for route", async () => {
    const r = await call("GET", "nomount/keys/a");
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ errors: ['no handler for route "nomount/keys/a". route entry not found.'] });
  });

  it("raw responses (http_status_code) answer with their own status and body", async () => {
    const r = await call("POST", "transit/raw", { body: {} });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ data: { batch_results: [{ error: "x" }] } });
  });

  it("a response's statusCode keeps the envelope", async () => {
    const r = await call("POST", "transit/status", { body: {} });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ data: { partial: true }, mount_type: "transit" });
  });

  it("malformed JSON is 400", async () => {
    const r = await call("POST", "transit/echo", {
      raw: '{"x": ',
      headers: { "Content-Type": "application/json" },
    });
    expect(r.status).toBe(400);
    expect((r.body as { errors: string[] }).errors[0]).toMatch(/^failed to parse JSON input: /);
    const arr = await call("POST", "transit/echo", {
      raw: "[1,2]",
      headers: { "Content-Type": "application/json" },
    });
    expect(arr.status).toBe(400);
  });

  it("JSON nested past the depth limit is 400, brackets inside strings do not count", async () => {
    const nested = (d: number) => `{"x": ${"[".repeat(d)}${"]".repeat(d)}}`;
    const deep = await call("POST", "transit/echo", {
      raw: nested(MAX_JSON_DEPTH),
      headers: { "Content-Type": "application/json" },
    });
    expect(deep.status).toBe(400);
    expect((deep.body as { errors: string[] }).errors).toEqual([
      "failed to parse JSON input: exceeded max depth",
    ]);
    const atLimit = await call("POST", "transit/echo", {
      raw: nested(MAX_JSON_DEPTH - 1),
      headers: { "Content-Type": "application/json" },
    });
    expect(atLimit.status).toBe(200);
    expect(jsonNestsDeeperThan(`{"x": "\\"${"[".repeat(2000)}"}`, MAX_JSON_DEPTH)).toBe(false);
    expect(jsonNestsDeeperThan(`{"x": "\\\\", "y": ${"{".repeat(600)}`, MAX_JSON_DEPTH)).toBe(true);
  });

  it("a body past the limit is 413, declared or streamed", async () => {
    const big = JSON.stringify({ value: "x".repeat(70 * 1024) });
    const r = await call("POST", "transit/echo", {
      raw: big,
      headers: { "Content-Type": "application/json" },
    });
    expect(r.status).toBe(413);
    expect(r.body).toEqual({ errors: ["http: request body too large"] });
    const streamed = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        `${base}/transit/echo`,
        { method: "POST", headers: { "X-Vault-Token": TOKEN, "Transfer-Encoding": "chunked" } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      for (let i = 0; i < 10; i++) req.write("x".repeat(10 * 1024));
      req.end();
    });
    expect(streamed).toBe(413);
    // The host still serves after refusing.
    expect((await call("GET", "transit/items/alpha")).status).toBe(200);
  });

  it("response wrapping is refused", async () => {
    const r = await call("GET", "transit/items/alpha", { headers: { "X-Vault-Wrap-TTL": "60s" } });
    expect(r.status).toBe(400);
  });

  it("an unknown method is 405", async () => {
    const r = await call("PATCH", "transit/items/alpha", { body: {} });
    expect(r.status).toBe(405);
  });
});

describe("sys", () => {
  it("lists mounts, at the top level and under data", async () => {
    const r = await call("GET", "sys/mounts");
    expect(r.status).toBe(200);
    const body = r.body as Record<string, Record<string, unknown>>;
    expect(body["transit/"]?.["type"]).toBe("transit");
    expect(body["data"]?.["transit/"]).toMatchObject({ type: "transit", local: false, seal_wrap: false });
    expect(body["sys/"]?.["type"]).toBe("system");
  });

  it("enables mounts by type transit or by the plugin's name, each with its own storage", async () => {
    expect(
      (await call("POST", "sys/mounts/second", { body: { type: "transit", description: "2" } })).status,
    ).toBe(204);
    expect(
      (await call("POST", "sys/mounts/third/nested", { body: { type: "vault-plugin-secrets-transit-ts" } }))
        .status,
    ).toBe(204);
    expect(
      (await call("POST", "sys/mounts/fourth", { body: { type: "plugin", plugin_name: "transit" } })).status,
    ).toBe(204);
    await call("POST", "second/items/alpha", { body: { value: "in-second" } });
    await call("POST", "third/nested/items/alpha", { body: { value: "in-third" } });
    expect((await call("GET", "second/items/alpha")).body).toMatchObject({ data: { value: "in-second" } });
    expect((await call("GET", "third/nested/items/alpha")).body).toMatchObject({
      data: { value: "in-third" },
    });
    expect((await call("GET", "transit/items/alpha")).body).toMatchObject({ data: { value: "two" } });
    expect((await call("GET", "fourth/items/alpha")).status).toBe(404);
    const one = await call("GET", "sys/mounts/second");
    expect(one.body).toMatchObject({ data: { type: "transit", description: "2" } });
  });

  it("refuses bad enables with Vault's messages", async () => {
    const none = await call("POST", "sys/mounts/x1", { body: {} });
    expect(none.status).toBe(400);
    expect(none.body).toEqual({ errors: ["backend type must be specified as a string"] });
    const kv = await call("POST", "sys/mounts/x2", { body: { type: "kv" } });
    expect(kv.status).toBe(400);
    expect(kv.body).toEqual({ errors: ["plugin not found in the catalog: kv"] });
    const dup = await call("POST", "sys/mounts/second", { body: { type: "transit" } });
    expect(dup.status).toBe(409);
    expect(dup.body).toEqual({ errors: ["path is already in use at second/"] });
    const sys = await call("POST", "sys/mounts/sys/x", { body: { type: "transit" } });
    expect(sys.status).toBe(400);
  });

  it("disables several mounts and removes their storage", async () => {
    const before = [...host.store.keysUnder("logical/")].length;
    expect((await call("DELETE", "sys/mounts/second")).status).toBe(204);
    expect((await call("DELETE", "sys/mounts/third/nested")).status).toBe(204);
    expect((await call("DELETE", "sys/mounts/fourth")).status).toBe(204);
    expect((await call("DELETE", "sys/mounts/never-was")).status).toBe(204);
    expect([...host.store.keysUnder("logical/")].length).toBe(before - 2);
    expect((await call("GET", "second/items/alpha")).status).toBe(404);
    expect(plugin.cleanedUp).toEqual(expect.arrayContaining(["second/", "third/nested/"]));
    const mounts = (await call("GET", "sys/mounts")).body as Record<string, unknown>;
    expect(Object.keys(mounts["data"] as object).sort()).toEqual(["sys/", "transit/"]);
    // A new mount at an old path starts empty.
    await call("POST", "sys/mounts/second", { body: { type: "transit" } });
    expect((await call("GET", "second/items/alpha")).status).toBe(404);
    await call("DELETE", "sys/mounts/second");
  });

  it("rotates the barrier keyring; old values still read", async () => {
    const status1 = (await call("GET", "sys/key-status")).body as { data: { term: number } };
    expect((await call("POST", "sys/rotate")).status).toBe(204);
    const status2 = (await call("GET", "sys/key-status")).body as { data: { term: number } };
    expect(status2.data.term).toBe(status1.data.term + 1);
    expect((await call("GET", "transit/items/alpha")).body).toMatchObject({ data: { value: "two" } });
  });

  it("reloads the plugin: mounts cleaned up, a new process", async () => {
    const starts = plugin.starts;
    const r = await call("POST", "sys/plugins/reload/backend", {
      body: { plugin: "vault-plugin-secrets-transit-ts" },
    });
    expect(r.status).toBe(200);
    expect((r.body as { data: { reload_id: string } }).data.reload_id).toMatch(/-/);
    expect(plugin.starts).toBe(starts + 1);
    const bad = await call("POST", "sys/plugins/reload/backend", { body: {} });
    expect(bad.body).toEqual({ errors: ["plugin or mounts must be provided"] });
    const byMount = await call("POST", "sys/plugins/reload/backend", { body: { mounts: ["transit"] } });
    expect(byMount.status).toBe(200);
    expect((await call("GET", "transit/items/alpha")).status).toBe(200);
  });

  it("token lookup-self describes the root token", async () => {
    const r = await call("GET", "auth/token/lookup-self");
    expect(r.body).toMatchObject({ data: { policies: ["root"], id: TOKEN } });
  });

  it("sys paths it does not serve are 404", async () => {
    expect((await call("GET", "sys/policies/acl")).status).toBe(404);
  });
});

describe("supervision", () => {
  it("restarts a dead plugin on the next request and logs why", async () => {
    const starts = plugin.starts;
    plugin.kill();
    await new Promise((r) => setImmediate(r));
    const r = await call("GET", "transit/items/alpha");
    expect(r.status).toBe(200);
    expect(plugin.starts).toBe(starts + 1);
    expect(logs.some((l) => l.includes("plugin process exited") && l.includes("SIGKILL"))).toBe(true);
    expect(logs.some((l) => l.includes("restarting plugin process"))).toBe(true);
  });

  it("sends Vault's rollback operation to every mount", async () => {
    await host.rollbackTick();
    expect(plugin.seen).toContain("transit/:rollback:");
  });
});
