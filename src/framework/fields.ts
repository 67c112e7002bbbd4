import { decodeStdBase64 } from "../util/base64.ts";
import { parseDurationSeconds, typeName } from "../util/duration.ts";

/** Field types of Vault's sdk/framework, plus base64-decoded bytes. */
export type FieldType =
  | "string"
  | "lowercase_string"
  | "name_string"
  | "int"
  | "int64"
  | "float"
  | "bool"
  | "map"
  | "duration_second"
  | "signed_duration_second"
  | "slice"
  | "string_slice"
  | "comma_string_slice"
  | "comma_int_slice"
  | "kv_pairs"
  | "time"
  | "base64";

export interface FieldSchema {
  type: FieldType;
  description?: string;
  default?: unknown;
  required?: boolean;
  /** Accepted values (checked after conversion); also listed in OpenAPI. */
  allowedValues?: readonly unknown[];
  /** Shown in OpenAPI as a query parameter rather than a body field. */
  query?: boolean;
  deprecated?: boolean;
}

export type FieldSchemas = Record<string, FieldSchema>;

/** The Go value type each field type converts to. */
export interface FieldValueMap {
  string: string;
  lowercase_string: string;
  name_string: string;
  int: number;
  int64: number;
  float: number;
  bool: boolean;
  map: Record<string, unknown>;
  duration_second: number;
  signed_duration_second: number;
  slice: unknown[];
  string_slice: string[];
  comma_string_slice: string[];
  comma_int_slice: number[];
  kv_pairs: Record<string, string>;
  time: Date;
  base64: Uint8Array;
}

class ConversionError extends Error {}

function unconvertible(expected: string, raw: unknown): never {
  throw new ConversionError(`expected type '${expected}', got unconvertible type '${typeName(raw)}'`);
}

/** mapstructure.WeakDecode into a Go bool. */
export function weakBool(raw: unknown): boolean {
  if (typeof raw === "boolean") return raw;
  if (typeof raw === "number") return raw !== 0;
  if (typeof raw === "string") {
    if (raw === "") return false;
    if (["1", "t", "T", "TRUE", "true", "True"].includes(raw)) return true;
    if (["0", "f", "F", "FALSE", "false", "False"].includes(raw)) return false;
    throw new ConversionError(
      `cannot parse '' as bool: strconv.ParseBool: parsing "${clip(raw)}": invalid syntax`,
    );
  }
  return unconvertible("bool", raw);
}

/** mapstructure.WeakDecode into a Go int (64-bit; limited here to the safe integer range). */
export function weakInt(raw: unknown): number {
  if (typeof raw === "number") {
    if (!Number.isFinite(raw)) unconvertible("int", raw);
    const n = Math.trunc(raw);
    if (!Number.isSafeInteger(n)) throw new ConversionError("value out of range");
    return n;
  }
  if (typeof raw === "boolean") return raw ? 1 : 0;
  if (typeof raw === "string") {
    if (raw === "") return 0;
    if (!/^[-+]?\d+$/.test(raw)) {
      throw new ConversionError(
        `cannot parse '' as int: strconv.ParseInt: parsing "${clip(raw)}": invalid syntax`,
      );
    }
    const n = Number(raw);
    if (!Number.isSafeInteger(n)) throw new ConversionError("value out of range");
    return n;
  }
  return unconvertible("int", raw);
}

function weakFloat(raw: unknown): number {
  if (typeof raw === "number" && Number.isFinite(raw)) return raw;
  if (typeof raw === "boolean") return raw ? 1 : 0;
  if (typeof raw === "string") {
    if (raw === "") return 0;
    const n = Number(raw);
    if (!Number.isFinite(n) || raw.trim() !== raw) throw new ConversionError("invalid syntax for float");
    return n;
  }
  return unconvertible("float64", raw);
}

/** mapstructure.WeakDecode into a Go string. */
export function weakString(raw: unknown): string {
  if (typeof raw === "string") return raw;
  if (typeof raw === "boolean") return raw ? "1" : "0";
  if (typeof raw === "number" && Number.isFinite(raw)) return String(raw);
  return unconvertible("string", raw);
}

function weakMap(raw: unknown): Record<string, unknown> {
  if (raw !== null && typeof raw === "object" && !Array.isArray(raw)) return raw as Record<string, unknown>;
  return unconvertible("map[string]interface {}", raw);
}

function weakSlice(raw: unknown): unknown[] {
  if (Array.isArray(raw)) return raw;
  if (raw !== null && typeof raw === "object") {
    // mapstructure turns an empty map into an empty slice, nothing else.
    if (Object.keys(raw).length === 0) return [];
    return unconvertible("[]interface {}", raw);
  }
  return [raw];
}

function clip(s: string): string {
  return s.length > 32 ? `${s.slice(0, 32)}...` : s;
}

const NAME_STRING = /^\w(([\w.-]+)?\w)?$/;

/** Converts one raw input value into the field's type; throws ConversionError. */
export function convertField<T extends FieldType>(type: T, raw: unknown): FieldValueMap[T];
export function convertField(type: FieldType, raw: unknown): unknown {
  switch (type) {
    case "string":
      return weakString(raw);
    case "lowercase_string":
      return weakString(raw).toLowerCase();
    case "name_string": {
      const s = weakString(raw);
      if (!NAME_STRING.test(s)) throw new ConversionError("field does not match the formatting rules");
      return s;
    }
    case "int":
    case "int64":
      return weakInt(raw);
    case "float":
      return weakFloat(raw);
    case "bool":
      return weakBool(raw);
    case "map":
      return weakMap(raw);
    case "duration_second":
    case "signed_duration_second": {
      let secs: number;
      try {
        secs = parseDurationSeconds(raw);
      } catch (e) {
        throw new ConversionError((e as Error).message);
      }
      if (type === "duration_second" && secs < 0)
        throw new ConversionError(`cannot provide negative value '${secs}'`);
      return secs;
    }
    case "slice":
      return weakSlice(raw);
    case "string_slice":
      if (raw === "") return [];
      return weakSlice(raw).map((v) => weakString(v).trim());
    case "comma_string_slice":
      if (typeof raw === "string") return raw === "" ? [] : raw.split(",").map((s) => s.trim());
      return weakSlice(raw).map((v) => weakString(v).trim());
    case "comma_int_slice":
      if (typeof raw === "string") return raw === "" ? [] : raw.split(",").map((s) => weakInt(s.trim()));
      return weakSlice(raw).map(weakInt);
    case "kv_pairs": {
      if (raw !== null && typeof raw === "object" && !Array.isArray(raw)) {
        return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, weakString(v)]));
      }
      const out: Record<string, string> = {};
      for (const pair of weakSlice(raw).map(weakString)) {
        const eq = pair.indexOf("=");
        if (eq <= 0) throw new ConversionError(`invalid key pair "${clip(pair)}"`);
        out[pair.slice(0, eq)] = pair.slice(eq + 1);
      }
      return out;
    }
    case "time": {
      if (typeof raw === "number") return new Date(raw * 1000);
      const s = weakString(raw);
      const d = /^\d+$/.test(s) ? new Date(Number(s) * 1000) : new Date(s);
      if (Number.isNaN(d.getTime())) throw new ConversionError("invalid time");
      return d;
    }
    case "base64": {
      const decoded = decodeStdBase64(weakString(raw));
      if (decoded === null) throw new ConversionError("illegal base64 data");
      return decoded;
    }
  }
}

/** The zero value Go's framework returns for a field with no input and no default. */
export function zeroValue(type: FieldType): unknown {
  switch (type) {
    case "string":
    case "lowercase_string":
    case "name_string":
      return "";
    case "int":
    case "int64":
    case "float":
    case "duration_second":
    case "signed_duration_second":
      return 0;
    case "bool":
      return false;
    case "map":
    case "kv_pairs":
      return {};
    case "slice":
    case "string_slice":
    case "comma_string_slice":
    case "comma_int_slice":
      return [];
    case "time":
      return new Date(0);
    case "base64":
      return new Uint8Array(0);
  }
}

/**
 * The request's input seen through a path's field schemas, as Vault's
 * framework.FieldData. URL captures have already replaced body values.
 */
export class FieldData {
  private readonly cache = new Map<string, unknown>();

  constructor(
    readonly raw: Record<string, unknown>,
    readonly schema: FieldSchemas,
  ) {}

  /** Checks every provided field converts; the message matches Vault's framework. */
  validate(): void {
    // Walk the input, usually far smaller than the schema.
    for (const name in this.raw) {
      const schema = Object.hasOwn(this.schema, name) ? this.schema[name] : undefined;
      if (schema !== undefined) this.convert(name, schema);
    }
    for (const name of requiredFields(this.schema)) {
      if (!Object.hasOwn(this.raw, name)) throw new FieldError(`missing required field "${name}"`);
    }
  }

  /** The converted value, else the default, else the type's zero value. */
  get<T extends FieldType = FieldType>(name: string): FieldValueMap[T] {
    const [value, ok] = this.getOk(name);
    if (ok) return value as FieldValueMap[T];
    const schema = this.schemaOf(name);
    return (schema.default !== undefined ? schema.default : zeroValue(schema.type)) as FieldValueMap[T];
  }

  /** The converted value and whether the caller supplied it. */
  getOk(name: string): [unknown, boolean] {
    const schema = this.schemaOf(name);
    if (!Object.hasOwn(this.raw, name)) return [undefined, false];
    const rawValue = this.raw[name];
    if (rawValue === null || rawValue === undefined) return [undefined, false];
    return [this.convert(name, schema), true];
  }

  private schemaOf(name: string): FieldSchema {
    const schema = this.schema[name];
    if (schema === undefined) throw new Error(`unknown field: "${name}"`);
    return schema;
  }

  private convert(name: string, schema: FieldSchema): unknown {
    if (this.cache.has(name)) return this.cache.get(name);
    const rawValue = this.raw[name];
    if (rawValue === null || rawValue === undefined) return undefined;
    let value: unknown;
    try {
      value = convertField(schema.type, rawValue);
    } catch (e) {
      if (e instanceof ConversionError) {
        throw new FieldError(`error converting input for field "${name}": ${e.message}`);
      }
      throw e;
    }
    if (schema.allowedValues !== undefined && !schema.allowedValues.includes(value)) {
      throw new FieldError(`field "${name}": value is not one of the allowed values`);
    }
    this.cache.set(name, value);
    return value;
  }
}

const requiredCache = new WeakMap<FieldSchemas, string[]>();

function requiredFields(schema: FieldSchemas): string[] {
  let names = requiredCache.get(schema);
  if (names === undefined) {
    names = Object.entries(schema)
      .filter(([, f]) => f.required)
      .map(([n]) => n);
    requiredCache.set(schema, names);
  }
  return names;
}

/** A field that does not validate; the framework answers 400 "Field validation failed: ...". */
export class FieldError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FieldError";
  }
}
