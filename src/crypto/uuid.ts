import { randomUUID } from "node:crypto";

/** A random (version 4) UUID from the CSPRNG: request ids, mount UUIDs. */
export function randomUuid(): string {
  return randomUUID();
}
