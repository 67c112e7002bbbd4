import { randomUuid } from "../crypto/uuid.ts";
import type { Operation } from "../framework/request.ts";
import type { HostRequest } from "../protocol/mount-backend.ts";
import type { MountEntry } from "./mounts.ts";

/** The logical request a mount's backend gets, as Vault's router fills it for the mount. */
export function mountRequest(
  entry: MountEntry,
  operation: Operation,
  path: string,
  data: Record<string, unknown> | undefined,
  headers: Record<string, string[]>,
  clientToken: string,
  id: string = randomUuid(),
): HostRequest {
  return {
    id,
    operation,
    path,
    data,
    mountPoint: entry.path,
    mountType: entry.type,
    mountAccessor: entry.accessor,
    headers,
    clientToken,
  };
}
