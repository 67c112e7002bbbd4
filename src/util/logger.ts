/**
 * The logging contract every module uses. The plugin's implementation writes
 * hclog JSON lines to stderr; tests may collect entries. Never pass key
 * material, plaintexts, ciphertexts or tokens as fields.
 */
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error";

export interface Logger {
  trace(message: string, fields?: Record<string, unknown>): void;
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  named(module: string): Logger;
}

const LEVELS: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };

/** hclog's JSON format: @level, @message, @timestamp, @module, then the fields. */
export class JsonLogger implements Logger {
  constructor(
    private readonly write: (line: string) => void = (line) => process.stderr.write(line),
    private readonly level: LogLevel = "info",
    private readonly module = "",
  ) {}

  private log(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    if (LEVELS[level] < LEVELS[this.level]) return;
    const entry: Record<string, unknown> = {
      "@level": level,
      "@message": message,
      "@timestamp": new Date().toISOString().replace("Z", "000Z"),
    };
    if (this.module !== "") entry["@module"] = this.module;
    if (fields !== undefined) {
      for (const [k, v] of Object.entries(fields)) entry[k] = v instanceof Error ? v.message : v;
    }
    this.write(`${JSON.stringify(entry)}\n`);
  }

  trace(message: string, fields?: Record<string, unknown>): void {
    this.log("trace", message, fields);
  }
  debug(message: string, fields?: Record<string, unknown>): void {
    this.log("debug", message, fields);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.log("info", message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.log("warn", message, fields);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.log("error", message, fields);
  }
  named(module: string): Logger {
    return new JsonLogger(this.write, this.level, this.module === "" ? module : `${this.module}.${module}`);
  }
}

export const nullLogger: Logger = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
  named() {
    return nullLogger;
  },
};
