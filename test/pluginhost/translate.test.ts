/**
 * The host's requests and the plugin's replies across pb, as Vault's
 * translation.go does it, and the relay of the plugin's hclog lines.
 */
import { describe, expect, it } from "vitest";
import { ErrorKind } from "../../src/framework/errors.ts";
import {
  HandleRequestArgs,
  HandleRequestReply,
  Request,
  type Response,
} from "../../src/gen/sdk/plugin/pb/backend.js";
import { PluginLogRelay } from "../../src/pluginhost/plugin-log.ts";
import { pluginEnvironment } from "../../src/pluginhost/process.ts";
import { splitVersion } from "../../src/pluginhost/services.ts";
import {
  fromExistenceReply,
  fromHandleRequestReply,
  fromProtoError,
  fromProtoResponse,
  saltedToken,
  toProtoRequest,
} from "../../src/pluginhost/translate.ts";
import type { HostRequest } from "../../src/protocol/mount-backend.ts";
import type { Logger } from "../../src/util/logger.ts";

const salt = Buffer.alloc(32, 7);
const base: HostRequest = {
  id: "3b1f0c9e-0000-4000-8000-000000000001",
  operation: "update",
  path: "encrypt/k",
  data: { plaintext: "aGk=", batch_input: [{ plaintext: "eA==" }], n: 3 },
  mountPoint: "transit/",
  mountType: "transit",
  mountAccessor: "transit_1234abcd",
  headers: { "user-agent": ["node-vault"], "x-multi": ["a", "b"] },
  clientToken: "hvs.the-root-token",
};

function response(partial: Partial<Response>): Response {
  return {
    secret: undefined,
    auth: undefined,
    data: "",
    redirect: "",
    warnings: [],
    wrapInfo: undefined,
    headers: {},
    mountType: "",
    ...partial,
  };
}

describe("request to pb", () => {
  it("carries operation, path, mount, headers and data as a JSON object text", () => {
    const r = toProtoRequest(base, { tokenSalt: salt });
    expect(r).toMatchObject({
      id: base.id,
      operation: "update",
      path: "encrypt/k",
      mountPoint: "transit/",
      mountType: "transit",
      mountAccessor: "transit_1234abcd",
      headers: { "user-agent": { header: ["node-vault"] }, "x-multi": { header: ["a", "b"] } },
      displayName: "root",
      unauthenticated: false,
    });
    expect(JSON.parse(r.data)).toEqual(base.data);
    // It survives the wire.
    const decoded = HandleRequestArgs.decode(HandleRequestArgs.encode({ storageId: 0, request: r }).finish())
      .request!;
    expect(decoded).toEqual(Request.fromPartial(r));
  });

  it("sends no data as JSON null, as Go marshals a nil map", () => {
    expect(toProtoRequest({ ...base, data: undefined }, { tokenSalt: salt }).data).toBe("null");
  });

  it("never passes the client token itself: a salted hash, as Vault's router", () => {
    const r = toProtoRequest(base, { tokenSalt: salt });
    expect(r.clientToken).not.toContain("the-root-token");
    expect(r.clientToken).toMatch(/^[0-9a-f]{64}$/);
    expect(r.clientToken).toBe(saltedToken(base.clientToken, salt));
    expect(saltedToken(base.clientToken, Buffer.alloc(32, 8))).not.toBe(r.clientToken);
    const anonymous = toProtoRequest({ ...base, clientToken: "" }, { tokenSalt: salt });
    expect(anonymous).toMatchObject({ clientToken: "", unauthenticated: true, displayName: "" });
  });
});

describe("pb reply to the host's result", () => {
  it("decodes the response data, warnings, headers and a secret's lease", () => {
    const r = fromProtoResponse(
      response({
        data: JSON.stringify({ ciphertext: "vault:v1:abc", key_version: 1, nested: { a: [1, 2] } }),
        warnings: ["w1"],
        headers: { "x-h": { header: ["v"] } },
        secret: {
          leaseOptions: { TTL: 3600 * 1e9, renewable: true, increment: 0, issueTime: undefined, MaxTTL: 0 },
          internalData: "{}",
          leaseId: "lease/1",
        },
      }),
    );
    expect(r).toEqual({
      data: { ciphertext: "vault:v1:abc", key_version: 1, nested: { a: [1, 2] } },
      warnings: ["w1"],
      headers: { "x-h": ["v"] },
      secret: { leaseId: "lease/1", renewable: true, ttl: 3600 },
    });
  });

  it("no response is null; JSON null or empty data is no data", () => {
    expect(fromProtoResponse(undefined)).toBeNull();
    expect(fromProtoResponse(response({ data: "null" }))).toEqual({ data: null });
    expect(fromProtoResponse(response({ data: "" }))).toEqual({ data: null });
  });

  it("refuses data that is not a JSON object", () => {
    expect(() => fromProtoResponse(response({ data: "[1]" }))).toThrow(/not a JSON object/);
    expect(() => fromProtoResponse(response({ data: "{" }))).toThrow(/not JSON/);
  });

  it("keeps a raw response's status fields for the HTTP layer", () => {
    const raw = { http_status_code: 400, http_content_type: "application/json", http_raw_body: "e30=" };
    expect(fromProtoResponse(response({ data: JSON.stringify(raw) }))?.data).toEqual(raw);
  });

  it("maps ProtoError kinds; Vault's sentinel errors carry Vault's message", () => {
    expect(fromProtoError(undefined)).toBeNull();
    expect(fromProtoError({ errType: 1, errMsg: "bad input", errCode: 0 })).toEqual({
      kind: ErrorKind.User,
      message: "bad input",
    });
    expect(fromProtoError({ errType: 3, errMsg: "teapot", errCode: 418 })).toEqual({
      kind: ErrorKind.Coded,
      message: "teapot",
      code: 418,
    });
    expect(fromProtoError({ errType: 6, errMsg: "whatever", errCode: 0 })).toEqual({
      kind: ErrorKind.UnsupportedPath,
      message: "unsupported path",
    });
    expect(fromProtoError({ errType: 8, errMsg: "x", errCode: 0 })?.message).toBe("permission denied");
    expect(fromProtoError({ errType: 7, errMsg: "x", errCode: 0 })?.message).toBe("invalid request");
    expect(fromProtoError({ errType: 5, errMsg: "x", errCode: 0 })?.message).toBe("unsupported operation");
    expect(fromProtoError({ errType: 99, errMsg: "odd", errCode: 0 })).toEqual({
      kind: ErrorKind.Unknown,
      message: "odd",
    });
  });

  it("keeps a response beside an error, as Vault's HandleRequest client does", () => {
    const reply = HandleRequestReply.decode(
      HandleRequestReply.encode({
        response: response({ data: JSON.stringify({ error: "bad", data: { batch_results: [] } }) }),
        err: { errType: 4, errMsg: "bad", errCode: 0 },
      }).finish(),
    );
    expect(fromHandleRequestReply(reply)).toEqual({
      response: { data: { error: "bad", data: { batch_results: [] } } },
      error: { kind: ErrorKind.BadRequest, message: "bad" },
    });
  });

  it("existence check: an error hides the flags", () => {
    expect(fromExistenceReply({ checkFound: true, exists: false, err: undefined })).toEqual({
      checkFound: true,
      exists: false,
      error: null,
    });
    expect(
      fromExistenceReply({ checkFound: true, exists: true, err: { errType: 1, errMsg: "no", errCode: 0 } }),
    ).toEqual({ checkFound: false, exists: false, error: { kind: ErrorKind.User, message: "no" } });
  });
});

describe("plugin environment", () => {
  const env = pluginEnvironment({
    command: ["plugin"],
    versions: [5],
    clientCertPem: "-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n",
    vaultVersion: "1.15.0+transit-ts-dev",
    logger: undefined as unknown as Logger,
    baseEnv: {
      PATH: "/usr/bin",
      TRANSIT_DEV_UNSEAL_KEY: "secret",
      VAULT_DEV_ROOT_TOKEN_ID: "root",
      VAULT_TOKEN: "t",
      PLUGIN_PROTOCOL_VERSIONS: "1",
    },
  });

  it("has Vault's and go-plugin's variables", () => {
    expect(env).toMatchObject({
      VAULT_BACKEND_PLUGIN: "6669da05-b1c8-4f49-97d9-c8e5bed98e20",
      PLUGIN_PROTOCOL_VERSIONS: "5",
      PLUGIN_MIN_PORT: "10000",
      PLUGIN_MAX_PORT: "25000",
      VAULT_PLUGIN_AUTOMTLS_ENABLED: "true",
      VAULT_PLUGIN_METADATA_MODE: "false",
      VAULT_VERSION: "1.15.0+transit-ts-dev",
      PATH: "/usr/bin",
    });
    expect(env["PLUGIN_CLIENT_CERT"]).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });

  it("withholds the host's secrets", () => {
    expect(env["TRANSIT_DEV_UNSEAL_KEY"]).toBeUndefined();
    expect(env["VAULT_DEV_ROOT_TOKEN_ID"]).toBeUndefined();
    expect(env["VAULT_TOKEN"]).toBeUndefined();
  });

  it("splits the version as PluginEnvironment carries it", () => {
    expect(splitVersion("1.15.0+transit-ts-dev")).toEqual({
      version: "1.15.0",
      prerelease: "",
      metadata: "transit-ts-dev",
    });
    expect(splitVersion("1.16.1-rc1+ent")).toEqual({ version: "1.16.1", prerelease: "rc1", metadata: "ent" });
  });
});

describe("plugin log relay", () => {
  function relay() {
    const seen: [string, string, Record<string, unknown> | undefined][] = [];
    const at =
      (level: string) =>
      (message: string, fields?: Record<string, unknown>): void => {
        seen.push([level, message, fields]);
      };
    const logger: Logger = {
      trace: at("trace"),
      debug: at("debug"),
      info: at("info"),
      warn: at("warn"),
      error: at("error"),
      named: () => logger,
    };
    return { r: new PluginLogRelay(logger), seen };
  }

  it("keeps an hclog line's level, message and fields", () => {
    const { r, seen } = relay();
    r.line(
      JSON.stringify({
        "@level": "warn",
        "@message": "slow storage",
        "@timestamp": "2026-01-01T00:00:00.000000Z",
        "@module": "transit",
        ms: 12,
      }),
    );
    r.line(JSON.stringify({ "@level": "TRACE", "@message": "t" }));
    r.line(JSON.stringify({ "@level": "error", "@message": "e" }));
    expect(seen).toEqual([
      ["warn", "slow storage", { plugin_module: "transit", ms: 12 }],
      ["trace", "t", {}],
      ["error", "e", {}],
    ]);
  });

  it("logs other lines by their prefix, crashes as errors, the rest at debug", () => {
    const { r, seen } = relay();
    r.line("[WARN] old style");
    r.line("plain text");
    r.line('{"not":"hclog"}');
    r.line("");
    r.line("TypeError: x is not a function");
    r.line("    at main (file.js:1:1)");
    expect(seen.map(([level, msg]) => [level, msg])).toEqual([
      ["warn", "[WARN] old style"],
      ["debug", "plain text"],
      ["debug", '{"not":"hclog"}'],
      ["error", "TypeError: x is not a function"],
      ["error", "    at main (file.js:1:1)"],
    ]);
  });
});
