import { pemEncode } from "../../crypto/encodings.ts";
import { internalError } from "../../framework/errors.ts";
import type { PathDefinition } from "../../framework/path.ts";
import { publicKeyObject } from "../keyring/asymmetric.ts";
import { getWrappingKey } from "../keyring/wrapping-key.ts";
import type { TransitState } from "../state.ts";

/** wrapping_key: the PKIX "PUBLIC KEY" PEM of the wrapping key (pem.EncodeToMemory, trailing newline). */
export function pathWrappingKey(t: TransitState): PathDefinition {
  return {
    pattern: "wrapping_key$",
    operations: {
      read: async (req) => {
        const ring = await getWrappingKey(t.keyrings, req.storage, t.logger);
        const entry = ring.versions.get(ring.latestVersion);
        const pub = entry === undefined ? null : publicKeyObject(entry);
        if (pub === null) throw internalError("error retrieving wrapping key: returned policy was nil");
        return { data: { public_key: pemEncode("PUBLIC KEY", pub.export({ format: "der", type: "spki" })) } };
      },
    },
    helpSynopsis: "Returns the public key to use for wrapping imported keys",
    helpDescription:
      "This path is used to retrieve the RSA-4096 wrapping key for wrapping keys that are being imported into transit.",
  };
}
