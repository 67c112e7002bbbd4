import type { Backend } from "./backend.ts";
import type { FieldSchema, FieldType } from "./fields.ts";
import type { CompiledPath, PathDefinition } from "./path.ts";

/** OpenAPI 3 description of a backend's paths, generated from their field schemas (as Vault's openapi.go). */
export function openApiDocument(backend: Backend, only: CompiledPath | null): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  const definitions = only === null ? backend.pathDefinitions : [only.definition];
  for (const def of definitions) {
    for (const template of expandPattern(def.pattern)) {
      paths[`/${template}`] = pathItem(def, template);
    }
  }
  return {
    openapi: "3.0.2",
    info: {
      title: "HashiCorp Vault API",
      description: "HTTP API that gives you full access to Vault.",
      version: "",
    },
    paths,
    components: { schemas: {} },
  };
}

function pathItem(def: PathDefinition, template: string): Record<string, unknown> {
  const fields = def.fields ?? {};
  const inPath = new Set([...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? ""));
  const item: Record<string, unknown> = {
    description: (def.helpSynopsis ?? "").trim(),
    parameters: [...inPath].map((name) => ({
      name,
      in: "path",
      required: true,
      description: fields[name]?.description ?? "",
      schema: schemaFor(fields[name]?.type ?? "string"),
    })),
  };
  const bodyFields = Object.entries(fields).filter(([name, f]) => !inPath.has(name) && !f.query);
  const queryFields = Object.entries(fields).filter(([name, f]) => !inPath.has(name) && f.query);
  for (const op of Object.keys(def.operations)) {
    switch (op) {
      case "read":
      case "list":
        item["get"] = {
          summary: (def.helpSynopsis ?? "").trim(),
          parameters: [
            ...(op === "list"
              ? [{ name: "list", in: "query", required: true, schema: { type: "string", enum: ["true"] } }]
              : []),
            ...queryFields.map(([name, f]) => ({
              name,
              in: "query",
              description: f.description ?? "",
              schema: schemaFor(f.type),
            })),
          ],
          responses: { 200: { description: "OK" } },
        };
        break;
      case "create":
      case "update":
        item["post"] = {
          summary: (def.helpSynopsis ?? "").trim(),
          requestBody:
            bodyFields.length === 0
              ? undefined
              : {
                  required: bodyFields.some(([, f]) => f.required),
                  content: { "application/json": { schema: objectSchema(bodyFields) } },
                },
          responses: { 200: { description: "OK" } },
        };
        break;
      case "delete":
        item["delete"] = {
          summary: (def.helpSynopsis ?? "").trim(),
          responses: { 204: { description: "empty body" } },
        };
        break;
    }
  }
  return item;
}

function objectSchema(fields: [string, FieldSchema][]): Record<string, unknown> {
  return {
    type: "object",
    properties: Object.fromEntries(
      fields.map(([name, f]) => [
        name,
        {
          ...schemaFor(f.type),
          description: f.description ?? "",
          ...(f.default !== undefined ? { default: f.default } : {}),
          ...(f.allowedValues !== undefined ? { enum: f.allowedValues } : {}),
          ...(f.deprecated ? { deprecated: true } : {}),
        },
      ]),
    ),
    ...(fields.some(([, f]) => f.required)
      ? { required: fields.filter(([, f]) => f.required).map(([n]) => n) }
      : {}),
  };
}

function schemaFor(type: FieldType): Record<string, unknown> {
  switch (type) {
    case "int":
    case "int64":
      return { type: "integer" };
    case "float":
      return { type: "number" };
    case "bool":
      return { type: "boolean" };
    case "map":
    case "kv_pairs":
      return { type: "object" };
    case "slice":
      return { type: "array", items: { type: "object" } };
    case "string_slice":
    case "comma_string_slice":
      return { type: "array", items: { type: "string" } };
    case "comma_int_slice":
      return { type: "array", items: { type: "integer" } };
    case "duration_second":
    case "signed_duration_second":
      return { type: "string", format: "duration" };
    case "time":
      return { type: "string", format: "date-time" };
    case "base64":
      return { type: "string", format: "byte" };
    default:
      return { type: "string" };
  }
}

/**
 * Turns a route pattern into OpenAPI path templates: named groups become
 * {name}, optional parts and alternations give one template per variant.
 */
export function expandPattern(pattern: string): string[] {
  let src = pattern;
  if (src.startsWith("^")) src = src.slice(1);
  if (src.endsWith("$")) src = src.slice(0, -1);
  const variants = expand(src);
  return [...new Set(variants.map((v) => v.replace(/\/+$/, "")).filter((v) => v !== ""))];
}

function expand(src: string): string[] {
  let results = [""];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === "(") {
      const end = matchingParen(src, i);
      const inner = src.slice(i + 1, end);
      let optional = src[end + 1] === "?";
      let alternatives: string[];
      const named = /^\?<(\w+)>/.exec(inner);
      if (named !== null) {
        alternatives = [`{${named[1]}}`];
      } else {
        const body = inner.startsWith("?:") ? inner.slice(2) : inner;
        alternatives = splitTopLevel(body).flatMap(expand);
      }
      if (src[end + 1] === "*") optional = true;
      const next: string[] = [];
      for (const r of results) {
        for (const a of alternatives) next.push(r + a);
        if (optional) next.push(r);
      }
      results = next;
      i = end + (optional ? 2 : 1);
      continue;
    }
    if (c === "\\") {
      const lit = src[i + 1] ?? "";
      results = results.map((r) => r + lit);
      i += 2;
      continue;
    }
    if (src[i + 1] === "?") {
      results = results.flatMap((r) => [r + c, r]);
      i += 2;
      continue;
    }
    results = results.map((r) => r + c);
    i++;
  }
  return results;
}

function matchingParen(src: string, open: number): number {
  let depth = 0;
  for (let i = open; i < src.length; i++) {
    if (src[i] === "\\") {
      i++;
      continue;
    }
    if (src[i] === "(") depth++;
    else if (src[i] === ")" && --depth === 0) return i;
  }
  throw new Error(`unbalanced pattern: ${src}`);
}

function splitTopLevel(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === "\\") i++;
    else if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "|" && depth === 0) {
      parts.push(body.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(body.slice(start));
  return parts;
}
