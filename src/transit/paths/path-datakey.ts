import { randomBytes } from "../../crypto/hash.ts";
import { goError, invalidRequest } from "../../framework/errors.ts";
import { genericNameRegex, type PathDefinition } from "../../framework/path.ts";
import { decodeStdBase64, encodeStdBase64 } from "../../util/base64.ts";
import { associatedDataSupported } from "../keyring/key-types.ts";
import { type CipherOptions, encrypt, encryptionVersion } from "../keyring/symmetric.ts";
import type { TransitState } from "../state.ts";
import { ERR_NONCE_NOT_ALLOWED, nonceAllowed, paddingSchemeArg } from "./cipher-items.ts";

export function pathDatakey(t: TransitState): PathDefinition {
  return {
    pattern: `datakey/${genericNameRegex("plaintext")}/${genericNameRegex("name")}`,
    fields: {
      name: { type: "string", description: "The backend key used for encrypting the data key" },
      plaintext: {
        type: "string",
        description:
          '"plaintext" will return the key in both plaintext and ciphertext; "wrapped" will return the ciphertext only.',
      },
      context: { type: "string", description: "Context for key derivation. Required for derived keys." },
      nonce: {
        type: "string",
        description: "Nonce for when convergent encryption v1 is used (only in Vault 0.6.1)",
      },
      bits: {
        type: "int",
        default: 256,
        description:
          "Number of bits for the key; currently 128, 256, and 512 bits are supported. Defaults to 256.",
      },
      key_version: {
        type: "int",
        description:
          "The version of the Vault key to use for encryption of the data key. Must be 0 (for latest) or a value greater than or equal to the min_encryption_version configured on the key.",
      },
      padding_scheme: {
        type: "string",
        description:
          "The padding scheme to use for encrypt. Valid schemes are oaep and pkcs1v15. Defaults to oaep.",
      },
      associated_data: {
        type: "string",
        description:
          "When using an AEAD cipher mode, such as AES-GCM, this parameter allows passing associated data (AD/AAD) into the encryption function.",
      },
    },
    operations: {
      update: async (req, d) => {
        // getDataKeyParams first: context, nonce and bits are checked before the path's mode
        // and before the key is looked up, as in Vault.
        const opts: CipherOptions = {};
        const version = d.get<"int">("key_version");
        const contextRaw = d.get<"string">("context");
        if (contextRaw !== "") {
          const ctx = decodeStdBase64(contextRaw);
          if (ctx === null) throw invalidRequest("failed to base64-decode context");
          opts.context = ctx;
        }
        const nonceRaw = d.get<"string">("nonce");
        if (nonceRaw !== "") {
          const nonce = decodeStdBase64(nonceRaw);
          if (nonce === null) throw invalidRequest("failed to base64-decode nonce");
          opts.nonce = nonce;
        }
        const bits = d.get<"int">("bits");
        if (bits !== 128 && bits !== 256 && bits !== 512) throw invalidRequest("invalid bit length");
        const mode = d.get<"string">("plaintext");
        if (mode !== "plaintext" && mode !== "wrapped")
          throw invalidRequest("Invalid path, must be 'plaintext' or 'wrapped'");
        const ring = await t.keyrings.get(req.storage, d.get<"string">("name"));
        if (ring === null) throw invalidRequest("encryption key not found");
        const [padding, paddingGiven] = d.getOk("padding_scheme");
        if (paddingGiven) {
          const scheme = paddingSchemeArg(ring.type, padding as string);
          if (typeof scheme !== "object") throw invalidRequest(`padding_scheme argument invalid: ${scheme}`);
          opts.paddingScheme = scheme.scheme;
        }
        const aadRaw = d.get<"string">("associated_data");
        if (aadRaw !== "") {
          if (!associatedDataSupported(ring.type)) {
            throw invalidRequest(`'associated_data' provided for non-AEAD cipher suite ${ring.type}`);
          }
          const aad = decodeStdBase64(aadRaw);
          if (aad === null) throw invalidRequest("failed to base64-decode associated_data");
          opts.associatedData = aad;
        }
        // A plain error in Vault (ErrNonceNotAllowed returned as is): 500.
        if (opts.nonce !== undefined && opts.nonce.length > 0 && !nonceAllowed(ring)) {
          throw goError(ERR_NONCE_NOT_ALLOWED);
        }
        const newKey = randomBytes(bits / 8);
        const ciphertext = encrypt(ring, version, newKey, opts);
        const data: Record<string, unknown> = { ciphertext, key_version: encryptionVersion(ring, version) };
        if (mode === "plaintext") data["plaintext"] = encodeStdBase64(newKey);
        return { data };
      },
    },
    helpSynopsis: "Generate a data key",
    helpDescription:
      'This path can be used to generate a data key: a random key of a certain length that can be used for encryption and decryption, protected by the named backend key. 128, 256, or 512 bits can be specified; if not specified, the default is 256 bits. Call with the the "wrapped" path to prevent the (base64-encoded) plaintext key from being returned along with the encrypted key, the "plaintext" path returns both.',
  };
}
