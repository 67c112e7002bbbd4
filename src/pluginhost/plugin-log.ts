/**
 * The plugin's stderr relayed into the host's log (go-plugin logStderr):
 * hclog JSON lines keep their level, message and fields; other lines are
 * logged by their "[LEVEL]" prefix, panics as errors, the rest at debug.
 */
import type { Logger, LogLevel } from "../util/logger.ts";

const HCLOG_LEVELS: Record<string, LogLevel> = {
  trace: "trace",
  debug: "debug",
  info: "info",
  warn: "warn",
  warning: "warn",
  error: "error",
};

/** Longest line relayed whole; longer ones are cut (go-plugin logs them as debug fragments). */
const MAX_LINE = 64 * 1024;

const NODE_CRASH = /^(?:[A-Z]\w*)?Error(?: \[[A-Z0-9_]+\])?: /;

export interface ParsedLogLine {
  level: LogLevel;
  message: string;
  fields: Record<string, unknown>;
}

export class PluginLogRelay {
  private inPanic = false;

  constructor(private readonly logger: Logger) {}

  /** One line of the plugin's stderr, without its newline. */
  line(raw: string): void {
    if (raw.trim() === "") return;
    const parsed = this.parse(raw);
    this.logger[parsed.level](parsed.message, parsed.fields);
  }

  parse(raw: string): ParsedLogLine {
    const line = raw.length > MAX_LINE ? `${raw.slice(0, MAX_LINE)}...` : raw;
    if (line.startsWith("{")) {
      const entry = parseJsonObject(line);
      if (entry !== null) {
        const level = HCLOG_LEVELS[String(entry["@level"] ?? "").toLowerCase()];
        if (level === undefined) return { level: "debug", message: line, fields: {} };
        const fields: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(entry)) {
          if (k === "@level" || k === "@message" || k === "@timestamp" || k === "@caller") continue;
          fields[k === "@module" ? "plugin_module" : k] = v;
        }
        return { level, message: String(entry["@message"] ?? ""), fields };
      }
    }
    for (const [prefix, level] of [
      ["[TRACE]", "trace"],
      ["[DEBUG]", "debug"],
      ["[INFO]", "info"],
      ["[WARN]", "warn"],
      ["[ERROR]", "error"],
    ] as const) {
      if (line.startsWith(prefix)) return { level, message: line, fields: {} };
    }
    // Go's panics, and Node's uncaught exceptions ("TypeError: ...", "Error [ERR_X]: ..."): the rest is the trace.
    if (line.startsWith("panic: ") || line.startsWith("fatal error: ") || NODE_CRASH.test(line)) {
      this.inPanic = true;
    }
    return { level: this.inPanic ? "error" : "debug", message: line, fields: {} };
  }
}

function parseJsonObject(line: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(line);
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
