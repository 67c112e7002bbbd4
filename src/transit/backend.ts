import { Backend } from "../framework/backend.ts";
import { type Logger, nullLogger } from "../util/logger.ts";

export interface TransitOptions {
  logger?: Logger;
}

/** Placeholder while the engine's paths land: the factory's signature is final. */
export function createTransitBackend(_options: TransitOptions = {}): Backend {
  void nullLogger;
  return new Backend({ help: "The transit backend is used for encryption/decryption of data.", paths: [] });
}
