/** The plugin's pure parts: environment checks, version negotiation, pb ↔ framework translation. */
import { describe, expect, it } from "vitest";
import {
  codedError,
  ErrorKind,
  internalError,
  invalidRequest,
  LogicalError,
  StorageError,
  unsupportedOperation,
  unsupportedPath,
  userError,
} from "../../src/framework/errors.ts";
import { InMemoryStorage } from "../../src/framework/storage.ts";
import { brokerTarget } from "../../src/plugin/broker.ts";
import { EnvError, negotiateVersion, readPluginEnv } from "../../src/plugin/env.ts";
import {
  decodeRequestData,
  encodeJson,
  outcomeToProto,
  protoRequestToLogical,
  RequestDecodeError,
} from "../../src/plugin/translate.ts";
import { fillRequest } from "./helpers/host.ts";

const CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

describe("environment", () => {
  it("negotiates the highest common app version, else our lowest (go-plugin)", () => {
    expect(negotiateVersion("3,4,5")).toBe(5);
    expect(negotiateVersion("5,4")).toBe(5);
    expect(negotiateVersion("4")).toBe(4);
    expect(negotiateVersion("3")).toBe(3);
    expect(negotiateVersion("6,7")).toBe(3);
    expect(negotiateVersion(undefined)).toBe(3);
    expect(negotiateVersion("x,4")).toBe(4);
  });

  it("reads ports with go-plugin's defaults and checks", () => {
    const base = { PLUGIN_CLIENT_CERT: CERT };
    expect(readPluginEnv(base)).toMatchObject({ minPort: 0, maxPort: 0, metadataMode: false });
    expect(readPluginEnv({ ...base, PLUGIN_MIN_PORT: "10000", PLUGIN_MAX_PORT: "25000" })).toMatchObject({
      minPort: 10000,
      maxPort: 25000,
    });
    expect(() => readPluginEnv({ ...base, PLUGIN_MIN_PORT: "2", PLUGIN_MAX_PORT: "1" })).toThrow(
      "PLUGIN_MIN_PORT value of 2 is greater than PLUGIN_MAX_PORT value of 1",
    );
    expect(() => readPluginEnv({ ...base, PLUGIN_MIN_PORT: "abc", PLUGIN_MAX_PORT: "1" })).toThrow(EnvError);
    expect(readPluginEnv({ ...base, VAULT_PLUGIN_METADATA_MODE: "true" }).metadataMode).toBe(true);
  });

  it("refuses to run without a client certificate, saying why", () => {
    expect(() => readPluginEnv({})).toThrow(/PLUGIN_CLIENT_CERT is not set/);
    expect(() => readPluginEnv({ VAULT_PLUGIN_AUTOMTLS_ENABLED: "false" })).toThrow(/unwrap-token TLS/);
  });

  it("dials tcp and unix broker addresses", () => {
    expect(brokerTarget("tcp", "127.0.0.1:1234")).toBe("127.0.0.1:1234");
    expect(brokerTarget("unix", "/tmp/plugin1")).toBe("unix:///tmp/plugin1");
    expect(() => brokerTarget("udp", "x")).toThrow();
  });
});

describe("request translation", () => {
  const storage = new InMemoryStorage();

  it("decodes the JSON data string; empty and null are no data", () => {
    expect(decodeRequestData("")).toBeUndefined();
    expect(decodeRequestData("null")).toBeUndefined();
    expect(decodeRequestData('{"a":1,"b":"2"}')).toEqual({ a: 1, b: "2" });
    expect(() => decodeRequestData("[1]")).toThrow(RequestDecodeError);
    expect(() => decodeRequestData("{")).toThrow(RequestDecodeError);
  });

  it("carries operation, path, mount, token and headers", () => {
    const req = protoRequestToLogical(
      fillRequest({
        id: "r1",
        operation: "update",
        path: "encrypt/k",
        data: '{"plaintext":"eA=="}',
        mountPoint: "transit/",
        mountType: "transit",
        clientToken: "hashed",
        headers: { "X-A": { header: ["1", "2"] } },
      }),
      storage,
    );
    expect(req).toMatchObject({
      id: "r1",
      operation: "update",
      path: "encrypt/k",
      data: { plaintext: "eA==" },
      mountPoint: "transit/",
      mountType: "transit",
      clientToken: "hashed",
      headers: { "X-A": ["1", "2"] },
    });
    expect(req.storage).toBe(storage);
  });

  it("an unknown operation is unsupported", () => {
    expect(() => protoRequestToLogical(fillRequest({ operation: "frob" }), storage)).toThrow(LogicalError);
  });
});

describe("response and error translation (Vault's translation.go)", () => {
  it("data travels as JSON with Go's escaping; no response is no response", () => {
    expect(outcomeToProto({ response: null }, "r")).toEqual({});
    const r = outcomeToProto({ response: { data: { a: "<&>" }, warnings: ["w"] } }, "r");
    expect(r.response?.data).toBe('{"a":"\\u003c\\u0026\\u003e"}');
    expect(r.response?.warnings).toEqual(["w"]);
    expect(r.err).toBeUndefined();
    expect(encodeJson(undefined)).toBe("null");
  });

  it("a status code becomes logical.RespondWithStatusCode's raw response", () => {
    const r = outcomeToProto(
      { response: { data: { batch_results: [{ error: "x" }] }, statusCode: 400 } },
      "req-9",
    );
    const data = JSON.parse(r.response!.data) as Record<string, unknown>;
    expect(data["http_status_code"]).toBe(400);
    expect(data["http_content_type"]).toBe("application/json");
    expect(JSON.parse(data["http_raw_body"] as string)).toEqual({
      request_id: "req-9",
      lease_id: "",
      renewable: false,
      lease_duration: 0,
      data: { batch_results: [{ error: "x" }] },
      wrap_info: null,
      warnings: null,
      auth: null,
      mount_type: "",
    });
  });

  it("error kinds keep their err_type; sentinels carry Vault's fixed texts", () => {
    const err = (e: unknown) => outcomeToProto({ error: e }, "r");
    expect(err(userError("bad input")).err).toEqual({
      errType: ErrorKind.User,
      errMsg: "bad input",
      errCode: 0,
    });
    expect(err(internalError("boom")).err).toEqual({
      errType: ErrorKind.Internal,
      errMsg: "boom",
      errCode: 0,
    });
    expect(err(codedError(409, "conflict")).err).toEqual({
      errType: ErrorKind.Coded,
      errMsg: "conflict",
      errCode: 409,
    });
    expect(err(unsupportedPath()).err).toEqual({ errType: 6, errMsg: "unsupported path", errCode: 0 });
    expect(err(unsupportedOperation()).err).toEqual({
      errType: 5,
      errMsg: "unsupported operation",
      errCode: 0,
    });
    expect(err(new LogicalError(ErrorKind.BadRequest, "nope")).err).toMatchObject({
      errType: 4,
      errMsg: "nope",
    });
  });

  it("an invalid request with a message is ErrorResponse(message) + ErrInvalidRequest, as Vault's transit", () => {
    const r = outcomeToProto({ error: invalidRequest("encryption key not found") }, "r");
    expect(r.err).toEqual({ errType: ErrorKind.InvalidRequest, errMsg: "invalid request", errCode: 0 });
    expect(JSON.parse(r.response!.data)).toEqual({ error: "encryption key not found" });
  });

  it("an unexpected error is a 500 that does not echo its text; a storage error keeps its text", () => {
    const r = outcomeToProto({ error: new Error("plaintext SECRET inside") }, "r");
    expect(r.err).toEqual({ errType: ErrorKind.Internal, errMsg: "internal error", errCode: 0 });
    expect(r.response).toBeUndefined();
    const s = outcomeToProto({ error: new StorageError("storage put failed: disk full") }, "r");
    expect(s.err).toMatchObject({ errType: ErrorKind.Internal, errMsg: "storage put failed: disk full" });
  });
});
