export * from "./backend.ts";
export * from "./errors.ts";
export * from "./fields.ts";
export * from "./path.ts";
export * from "./request.ts";
export * from "./storage.ts";
