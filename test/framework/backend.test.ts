import { describe, expect, it } from "vitest";
import { Backend } from "../../src/framework/backend.ts";
import { ErrorKind, invalidRequest, LogicalError } from "../../src/framework/errors.ts";
import { expandPattern } from "../../src/framework/openapi.ts";
import { genericNameRegex, optionalParamRegex } from "../../src/framework/path.ts";
import { httpOutcome } from "../../src/framework/request.ts";
import { InMemoryStorage, listSegments, StorageView } from "../../src/framework/storage.ts";

const storage = new InMemoryStorage();

function backend(): Backend {
  return new Backend({
    help: "test backend",
    paths: [
      {
        pattern: `items/${genericNameRegex("name")}${optionalParamRegex("version")}`,
        fields: {
          name: { type: "string", description: "item name" },
          version: { type: "int" },
          count: { type: "int", default: 3 },
        },
        operations: {
          read: async (_req, d) => ({
            data: { name: d.get("name"), version: d.get("version"), count: d.get("count") },
          }),
          update: async () => {
            throw invalidRequest("bad item");
          },
          delete: async () => null,
        },
        existenceCheck: async (_req, d) => d.get("name") === "exists",
        helpSynopsis: "Manage items",
      },
      { pattern: "boom", operations: { read: async () => Promise.reject(new Error("secret-key-material")) } },
      { pattern: "items/?$", operations: { list: async () => ({ data: { keys: [] } }) } },
    ],
  });
}

describe("routing", () => {
  it("matches anchored patterns and captures named segments, URL over body", async () => {
    const resp = await backend().handleRequest({
      operation: "read",
      path: "items/a.b-c/7",
      data: { count: "9", name: "ignored", extra: 1 },
      storage,
    });
    expect(resp?.data).toEqual({ name: "a.b-c", version: 7, count: 9 });
    expect(resp?.warnings).toEqual([
      "Endpoint ignored these unrecognized parameters: [extra]",
      "Endpoint replaced the value of these parameters with the values captured from the endpoint's path: [name]",
    ]);
  });

  it("an optional group that did not match captures the empty string", async () => {
    const resp = await backend().handleRequest({ operation: "read", path: "items/x", storage });
    expect(resp?.data?.["version"]).toBe(0);
  });

  it("unknown paths are 404, unsupported operations 405", async () => {
    await expect(backend().handleRequest({ operation: "read", path: "nope", storage })).rejects.toMatchObject(
      {
        kind: ErrorKind.UnsupportedPath,
        httpStatus: 404,
      },
    );
    await expect(
      backend().handleRequest({ operation: "list", path: "items/x", storage }),
    ).rejects.toMatchObject({
      kind: ErrorKind.UnsupportedOperation,
      httpStatus: 405,
    });
    await expect(
      backend().handleRequest({ operation: "read", path: "items/-x", storage }),
    ).rejects.toMatchObject({
      httpStatus: 404,
    });
  });

  it("field validation failures are 400 error responses", async () => {
    const resp = await backend().handleRequest({
      operation: "read",
      path: "items/x",
      data: { count: {} },
      storage,
    });
    expect(httpOutcome("read", resp)).toEqual({
      status: 400,
      error: expect.stringMatching(/^Field validation failed: error converting input for field "count"/),
    });
  });

  it("handler errors keep their kind; unknown errors become a 500 that hides the message", async () => {
    await expect(
      backend().handleRequest({ operation: "update", path: "items/x", storage }),
    ).rejects.toMatchObject({
      kind: ErrorKind.InvalidRequest,
      message: "bad item",
    });
    const err = await backend()
      .handleRequest({ operation: "read", path: "boom", storage })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LogicalError);
    expect((err as LogicalError).httpStatus).toBe(500);
    expect((err as LogicalError).message).not.toContain("secret");
  });

  it("existence checks run only where a path defines one", async () => {
    const b = backend();
    expect(await b.handleExistenceCheck({ operation: "update", path: "items/exists", storage })).toEqual({
      checkFound: true,
      exists: true,
    });
    expect(await b.handleExistenceCheck({ operation: "create", path: "items/other", storage })).toEqual({
      checkFound: true,
      exists: false,
    });
    expect(await b.handleExistenceCheck({ operation: "update", path: "boom", storage })).toEqual({
      checkFound: false,
      exists: false,
    });
    await expect(
      b.handleExistenceCheck({ operation: "read", path: "items/x", storage }),
    ).rejects.toBeInstanceOf(LogicalError);
  });

  it("an empty list is a 404, as Vault answers", async () => {
    const resp = await backend().handleRequest({ operation: "list", path: "items/", storage });
    expect(httpOutcome("list", resp).status).toBe(404);
  });
});

describe("help", () => {
  it("root help lists the paths and carries an OpenAPI document", async () => {
    const resp = await backend().handleRequest({ operation: "help", path: "", storage });
    expect(String(resp?.data?.["help"])).toContain("Manage items");
    const doc = resp?.data?.["openapi"] as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/items/{name}", "/items/{name}/{version}"]),
    );
  });

  it("path help describes the fields", async () => {
    const resp = await backend().handleRequest({ operation: "help", path: "items/x", storage });
    expect(String(resp?.data?.["help"])).toContain("count (int)");
    const doc = resp?.data?.["openapi"] as { paths: Record<string, { get?: unknown; post?: unknown }> };
    expect(doc.paths["/items/{name}"]?.get).toBeDefined();
  });

  it("expands optional groups and alternations into templates", () => {
    expect(expandPattern("export/(?<type>a-key|b-key)/x/?$")).toEqual(["export/{type}/x"]);
    expect(expandPattern("hash(?:/(?<algo>.+))?")).toEqual(["hash/{algo}", "hash"]);
  });
});

describe("storage", () => {
  it("lists the next segment with folders once", async () => {
    expect(listSegments(["a/b", "a/c/d", "a/c/e", "b"], "a/")).toEqual(["b", "c/"]);
    const s = new InMemoryStorage();
    await s.put({ key: "p/x", value: new Uint8Array([1]) });
    const view = new StorageView(s, "p/");
    expect(await view.list("")).toEqual(["x"]);
    expect((await view.get("x"))?.key).toBe("x");
    await view.delete("x");
    expect(await s.get("p/x")).toBeNull();
  });

  it("copies values in and out", async () => {
    const s = new InMemoryStorage();
    const v = new Uint8Array([1, 2]);
    await s.put({ key: "k", value: v });
    v[0] = 9;
    const got = await s.get("k");
    expect(got?.value[0]).toBe(1);
  });
});
