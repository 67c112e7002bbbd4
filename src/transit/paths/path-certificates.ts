import { invalidRequest, LogicalError } from "../../framework/errors.ts";
import { genericNameRegex, type PathDefinition } from "../../framework/path.ts";
import {
  createCsr,
  parseCertificateChain,
  parseCsrTemplate,
  withCertificateChain,
} from "../keyring/certificates.ts";
import { signingSupported } from "../keyring/key-types.ts";
import { cloneKeyring, type Keyring } from "../keyring/keyring.ts";
import type { TransitState } from "../state.ts";

/**
 * keys/:name/csr and keys/:name/set-certificate (transit
 * path_certificates.go): a PKCS #10 request signed by a key version, and
 * the externally issued certificate chain of a key version, stored on it
 * and shown by keys/:name and export/certificate-chain.
 */

const NAME_FIELD = { type: "string", description: "Name of the key" } as const;
const VERSION_FIELD = { type: "int", description: "Optional version of key, 'latest' if not set" } as const;

/** The checks both paths share, in Vault's order and words. */
function checkKey(ring: Keyring | null, name: string, quoteType: boolean): Keyring {
  if (ring === null) throw invalidRequest(`key with provided name '${name}' not found`);
  if (!signingSupported(ring.type)) {
    throw invalidRequest(
      quoteType
        ? `key type '${ring.type}' does not support signing`
        : `key type ${ring.type} does not support signing`,
    );
  }
  if (ring.derived) throw invalidRequest("operation not supported on keys with derivation enabled");
  return ring;
}

/** Vault's prefixing of keysutil's errors (user errors 400; the others Vault answers with 500). */
function prefixed<T>(prefix: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof LogicalError) throw new LogicalError(e.kind, `${prefix}: ${e.message}`);
    throw e;
  }
}

export function pathCreateCsr(t: TransitState): PathDefinition {
  return {
    pattern: `keys/${genericNameRegex("name")}/csr`,
    fields: {
      name: NAME_FIELD,
      version: VERSION_FIELD,
      csr: {
        type: "string",
        description:
          "PEM encoded CSR template. The information attributes \nwill be used as a basis for the CSR with the key in transit. If not set, an empty CSR is returned.",
      },
    },
    operations: {
      update: async (req, d) => {
        const name = d.get<"string">("name");
        const ring = checkKey(await t.keyrings.get(req.storage, name), name, true);
        const [version, set] = d.getOk("version");
        const keyVersion = set ? (version as number) : ring.latestVersion;
        const template = parseCsrTemplate(d.get<"string">("csr"));
        const csr = prefixed("could not create the csr", () => createCsr(ring, keyVersion, template));
        return { data: { name: ring.name, type: ring.type, csr } };
      },
    },
    helpSynopsis: "Create a CSR from a key in transit",
    helpDescription:
      "This path is used to create a CSR from a key in \ntransit. If a CSR template is provided, its significant information, expect key \nrelated data, are included in the CSR otherwise an empty CSR is returned.\n",
  };
}

export function pathImportCertChain(t: TransitState): PathDefinition {
  return {
    pattern: `keys/${genericNameRegex("name")}/set-certificate`,
    fields: {
      name: NAME_FIELD,
      version: VERSION_FIELD,
      certificate_chain: {
        type: "string",
        description:
          "PEM encoded certificate chain. It should be composed \nby one or more concatenated PEM blocks and ordered starting from the end-entity certificate.",
      },
    },
    operations: {
      update: async (req, d) => {
        const name = d.get<"string">("name");
        return t.keyrings.exclusive(name, async () => {
          const ring = checkKey(await t.keyrings.get(req.storage, name), name, false);
          const [version, set] = d.getOk("version");
          const keyVersion = set ? (version as number) : ring.latestVersion;
          const pemChain = d.get<"string">("certificate_chain");
          const chain = parseCertificateChain(pemChain);
          const entry = prefixed("failed to persist certificate chain", () =>
            withCertificateChain(ring, keyVersion, chain),
          );
          const next = cloneKeyring(ring);
          next.versions.set(keyVersion, entry);
          await t.keyrings.store(req.storage, next);
          t.logger.info("certificate chain set", { key: name, version: keyVersion });
          return { data: { name: ring.name, type: ring.type, "certificate-chain": pemChain } };
        });
      },
    },
    helpSynopsis: "Imports an externally-signed certificate \nchain into an existing key version",
    helpDescription:
      "This path is used to import an externally-\nsigned certificate chain into a key in transit. The leaf certificate key has to \nmatch the selected key in transit.\n",
  };
}
