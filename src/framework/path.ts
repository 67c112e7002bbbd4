import type { FieldData, FieldSchemas } from "./fields.ts";
import type { LogicalRequest, LogicalResponse, Operation } from "./request.ts";

export type OperationHandler = (req: LogicalRequest, data: FieldData) => Promise<LogicalResponse | null>;

export interface PathOperation {
  handler: OperationHandler;
  summary?: string;
  description?: string;
}

/**
 * One route of a backend (Vault's framework.Path). `pattern` is a regular
 * expression with named groups; it is anchored at both ends. Named groups
 * become fields, and win over body fields of the same name.
 */
export interface PathDefinition {
  pattern: string;
  fields?: FieldSchemas;
  operations: Partial<Record<Operation, OperationHandler | PathOperation>>;
  /** Decides create vs update for a write, as Vault asks before routing. */
  existenceCheck?: (req: LogicalRequest, data: FieldData) => Promise<boolean>;
  helpSynopsis?: string;
  helpDescription?: string;
  takesArbitraryInput?: boolean;
}

/** framework.GenericNameRegex: a name of word characters, dots and dashes, starting and ending with a word character. */
export function genericNameRegex(name: string): string {
  return `(?<${name}>\\w(?:(?:[\\w.-]+)?\\w)?)`;
}

/** framework.OptionalParamRegex: an optional trailing "/value". */
export function optionalParamRegex(name: string): string {
  return `(?:/(?<${name}>.+))?`;
}

/** framework.MatchAllRegex. */
export function matchAllRegex(name: string): string {
  return `(?<${name}>.*)`;
}

export function operationHandler(op: OperationHandler | PathOperation): OperationHandler {
  return typeof op === "function" ? op : op.handler;
}

export interface CompiledPath {
  definition: PathDefinition;
  regex: RegExp;
  /** The anchored source, as Vault prints it in root help. */
  source: string;
}

export function compilePath(definition: PathDefinition): CompiledPath {
  let source = definition.pattern;
  if (!source.startsWith("^")) source = `^${source}`;
  if (!source.endsWith("$")) source = `${source}$`;
  return { definition, regex: new RegExp(source), source };
}
