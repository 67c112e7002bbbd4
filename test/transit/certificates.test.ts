/**
 * keys/:name/csr and keys/:name/set-certificate against Vault's behaviour
 * (transit path_certificates.go; keysutil CreateCsr, ValidateLeafCertKeyMatch,
 * ValidateAndPersistCertificateChain), checked with independent code:
 * @peculiar/x509 and the openssl CLI verify the requests with the key's
 * public key, a test CA made with @peculiar/x509 issues the certificates,
 * and (when a Go toolchain is installed) Go's own x509.CreateCertificateRequest
 * builds the same request from the same template, byte for byte.
 */
import "../../src/util/reflect-polyfill.ts";
import { spawnSync } from "node:child_process";
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  webcrypto,
} from "node:crypto";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as x509 from "@peculiar/x509";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { children, encodeOid, readTlv, whole } from "../../src/crypto/der.ts";
import { createTransitBackend } from "../../src/transit/backend.ts";
import { TestEngine } from "../helpers/engine.ts";

const crypto = webcrypto;
x509.cryptoProvider.set(crypto as unknown as Parameters<typeof x509.cryptoProvider.set>[1]);
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const HERE = dirname(fileURLToPath(import.meta.url));
const work = mkdtempSync(join(tmpdir(), "transit-certs-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const hasOpenssl = spawnSync("sh", ["-c", "command -v openssl"], { stdio: "ignore" }).status === 0;
const hasGo = spawnSync("sh", ["-c", "command -v go"], { stdio: "ignore" }).status === 0;
/**
 * Tests that compile and run Go programs: \`go build\`/\`go run\` of a cold cache takes minutes on a
 * loaded 2-core machine, far past vitest's default 30 s. A generous limit, not a timing assertion.
 */
const GO_TEST_TIMEOUT_MS = 300_000;

const SIGNING_TYPES = ["ed25519", "ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "rsa-2048"] as const;
type SigningType = (typeof SIGNING_TYPES)[number];

const SIG_OID: Record<SigningType, string> = {
  ed25519: "1.3.101.112",
  "ecdsa-p256": "1.2.840.10045.4.3.2",
  "ecdsa-p384": "1.2.840.10045.4.3.3",
  "ecdsa-p521": "1.2.840.10045.4.3.4",
  "rsa-2048": "1.2.840.113549.1.1.11",
};

/** A request template made by openssl from a throwaway key: subject, SAN and key usage requested. */
function opensslTemplate(extra: string[] = []): string {
  const key = join(work, "template-key.pem");
  writeFileSync(
    key,
    generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "pem", type: "pkcs8" }),
  );
  const r = spawnSync(
    "openssl",
    [
      "req",
      "-new",
      "-key",
      key,
      "-subj",
      "/C=DE/O=Example Org/CN=service.example.com",
      "-addext",
      "subjectAltName=DNS:service.example.com,IP:10.0.0.1",
      "-addext",
      "keyUsage=digitalSignature",
      ...extra,
    ],
    { encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}

/** A template made by @peculiar/x509 (used when openssl is missing, and for its own sake). */
async function peculiarTemplate(): Promise<string> {
  const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: "CN=peculiar.example, O=Peculiar",
    keys,
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: "dns", value: "peculiar.example" }])],
  });
  return csr.toString("pem");
}

async function publicSpki(e: TestEngine, name: string, version = 1): Promise<Buffer> {
  const r = await e.read(`export/public-key/${name}/${version}`);
  expect(r.status).toBe(200);
  const pem = String((r.data["keys"] as Record<string, string>)[String(version)]);
  if (pem.includes("BEGIN")) return createPublicKey(pem).export({ format: "der", type: "spki" });
  // ed25519: base64 of the raw key.
  return Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), Buffer.from(pem, "base64")]);
}

function opensslVerify(pem: string): string {
  const file = join(work, `csr-${Math.random().toString(36).slice(2)}.pem`);
  writeFileSync(file, pem);
  const r = spawnSync("openssl", ["req", "-in", file, "-verify", "-noout", "-pubkey", "-subject"], {
    encoding: "utf8",
  });
  return `${r.stdout}${r.stderr}`;
}

/**
 * Templates built here with attribute values of every kind Go's `any` takes
 * (strings of each type, INTEGER, BIT STRING, times, OIDs), of a kind it does
 * not (NULL), values Go's parser refuses (the attribute is dropped) or cannot
 * marshal back, several value sets (sorted as DER SET OF), trailing elements.
 * The signature is junk: Go does not check a template's signature.
 */
function handMadeTemplates(): string[] {
  const tlv = (tag: number, ...parts: Uint8Array[]): Buffer => {
    const body = Buffer.concat(parts);
    const n = body.length;
    const head = n < 128 ? [tag, n] : n < 256 ? [tag, 0x81, n] : [tag, 0x82, n >> 8, n & 255];
    return Buffer.concat([Buffer.from(head), body]);
  };
  const oid = (hex: string): Buffer => tlv(6, Buffer.from(hex, "hex"));
  const atv = (o: string, v: Buffer): Buffer => tlv(0x30, oid(o), v);
  const attr = (o: string, ...sets: Buffer[]): Buffer => tlv(0x30, oid(o), tlv(0x31, ...sets));
  const spki = Buffer.from(`302a300506032b6570032100${"11".repeat(32)}`, "hex");
  const subject = tlv(0x30, tlv(0x31, tlv(0x30, oid("550403"), tlv(0x0c, Buffer.from("hand made")))));
  const csr = (...attrs: Buffer[]): string => {
    const info = tlv(0x30, Buffer.from("020100", "hex"), subject, spki, tlv(0xa0, ...attrs));
    const der = tlv(0x30, info, tlv(0x30, oid("2b6570")), tlv(3, Buffer.of(0), Buffer.alloc(64)));
    return `-----BEGIN CERTIFICATE REQUEST-----\n${(der.toString("base64").match(/.{1,64}/g) ?? []).join("\n")}\n-----END CERTIFICATE REQUEST-----\n`;
  };
  const s = (text: string): Buffer => Buffer.from(text, "utf8");
  return [
    csr(
      attr(
        "2a0304",
        tlv(
          0x30,
          atv("2a0305", tlv(0x16, s("ia5 str"))),
          atv("2a0306", tlv(0x0c, s("utf8 \u00fc"))),
          atv("2a0307", tlv(0x13, s("Print*"))),
        ),
        tlv(
          0x30,
          atv("2a0308", tlv(2, Buffer.from([0x00, 0x80]))),
          atv("2a0309", tlv(3, Buffer.from([0x01, 0xfe]))),
          atv("2a030a", tlv(0x17, s("2001021504Z"))),
          atv("2a030b", tlv(0x18, s("20300102150405+0130"))),
          atv("2a030c", tlv(0x1e, Buffer.from("00410042", "hex"))),
          atv("2a030d", tlv(0x14, s("t61"))),
          atv("2a030e", tlv(0x12, s("12 3"))),
          atv("2a030f", oid("2a0310")),
        ),
      ),
    ),
    csr(attr("2a0304", tlv(0x30, atv("2a0305", Buffer.from("0500", "hex"))))),
    csr(
      attr("2a0304", tlv(0x30, atv("2a0305", tlv(2, Buffer.from([0, 1]))))),
      attr("2a0310", tlv(0x30, atv("2a0311", tlv(4, s("kept"))))),
    ),
    csr(attr("2a0304", tlv(0x30, atv("2a0305", tlv(0x14, Buffer.from([0xff, 0x41])))))),
    csr(
      attr("2a0304"),
      attr("2a0305", tlv(0x30, tlv(0x30, oid("2a0306"), tlv(4, s("a")), tlv(1, Buffer.from([0xff]))))),
      tlv(0x31, s("not an attribute")),
    ),
  ];
}

/** Builds a program of test/transit/go-interop once (per name); the returned function runs it on JSON. */
const goBinaries = new Map<string, string>();
function buildGo(name: string): (input: unknown) => Record<string, string> {
  let binary = goBinaries.get(name);
  if (binary === undefined) {
    copyFileSync(join(HERE, "go-interop", `${name}.go`), join(work, `${name}.go`));
    const build = spawnSync("go", ["build", "-o", name, `${name}.go`], {
      cwd: work,
      encoding: "utf8",
      timeout: 240_000,
      env: { ...process.env, GO111MODULE: "off", GOFLAGS: "", GOCACHE: join(work, "cache"), HOME: work },
    });
    expect(build.status, build.stderr).toBe(0);
    binary = join(work, name);
    goBinaries.set(name, binary);
  }
  const path = binary;
  return (input) =>
    JSON.parse(spawnSync(path, { input: JSON.stringify(input), encoding: "utf8" }).stdout) as Record<
      string,
      string
    >;
}

function buildGoCsr(): (key: KeyObject, csr: string) => { csr?: string; error?: string } {
  const run = buildGo("csr");
  return (key, csr) => run({ key: key.export({ format: "pem", type: "pkcs8" }), csr });
}

/** The PKCS #8 key of an exportable ed25519 or RSA transit key, for Go. */
async function exportedKey(e: TestEngine, name: string, type: "ed25519" | "rsa-2048"): Promise<KeyObject> {
  const exported = String(
    ((await e.read(`export/signing-key/${name}/1`)).data["keys"] as Record<string, string>)["1"],
  );
  return type === "ed25519"
    ? createPrivateKey({
        key: Buffer.concat([
          Buffer.from("302e020100300506032b657004220420", "hex"),
          Buffer.from(exported, "base64").subarray(0, 32),
        ]),
        format: "der",
        type: "pkcs8",
      })
    : createPrivateKey(exported);
}

// ---------------------------------------------------------------- a test CA

interface Ca {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

async function makeCa(name: string, issuer?: Ca): Promise<Ca> {
  const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  const extensions = [
    new x509.BasicConstraintsExtension(true, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
  ];
  const cert =
    issuer === undefined
      ? await x509.X509CertificateGenerator.createSelfSigned({
          name,
          keys,
          signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
          extensions,
        })
      : await x509.X509CertificateGenerator.create({
          subject: name,
          issuer: issuer.cert.subject,
          publicKey: keys.publicKey,
          signingKey: issuer.keys.privateKey,
          signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
          extensions,
        });
  return { cert, keys };
}

/** A certificate over `spki` (any algorithm: the SPKI is embedded as given), issued by `ca`. */
async function issue(ca: Ca, spki: Uint8Array, opts: { ca?: boolean; cn?: string } = {}): Promise<string> {
  const extensions: x509.Extension[] = [];
  if (opts.ca !== undefined) extensions.push(new x509.BasicConstraintsExtension(opts.ca, undefined, true));
  const cert = await x509.X509CertificateGenerator.create({
    subject: `CN=${opts.cn ?? "leaf.example"}`,
    issuer: ca.cert.subject,
    publicKey: new x509.PublicKey(new Uint8Array(spki).buffer),
    signingKey: ca.keys.privateKey,
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
    extensions,
  });
  return `${cert.toString("pem")}\n`;
}

/** A CA certificate as PEM ending in a newline (concatenated PEM blocks need their line ends). */
const caPem = (ca: Ca): string => `${ca.cert.toString("pem")}\n`;

const sanOf = (csr: x509.Pkcs10CertificateRequest): unknown =>
  (
    csr.extensions.find((x) => x instanceof x509.SubjectAlternativeNameExtension) as
      | x509.SubjectAlternativeNameExtension
      | undefined
  )?.names.toJSON();

const trimmedChain = (...pems: string[]): string => pems.map((p) => p.trim()).join("\n");

/** The status Vault answers for a refusal: 500 for keysutil's plain errors, else 400. */
const vaultStatus = (error: string | undefined): number =>
  /could not create the cerfificate request|leaf certificate public key does match the key version selected/.test(
    error ?? "",
  )
    ? 500
    : 400;

let root: Ca;
let intermediate: Ca;
beforeAll(async () => {
  root = await makeCa("CN=Test Root CA");
  intermediate = await makeCa("CN=Test Intermediate CA", root);
});

// ---------------------------------------------------------------- csr

describe("keys/:name/csr", () => {
  for (const type of SIGNING_TYPES) {
    it(`${type}: the template's subject and extensions, the key's public key, a valid signature`, async () => {
      const e = new TestEngine();
      expect((await e.write("keys/k", { type })).status).toBe(200);
      const template = hasOpenssl ? opensslTemplate() : await peculiarTemplate();
      const r = await e.write("keys/k/csr", { csr: template });
      expect(r.status).toBe(200);
      expect(r.data["name"]).toBe("k");
      expect(r.data["type"]).toBe(type);
      const pem = String(r.data["csr"]);
      expect(pem).toMatch(
        /^-----BEGIN CERTIFICATE REQUEST-----\n[\s\S]+\n-----END CERTIFICATE REQUEST-----\n$/,
      );

      const csr = new x509.Pkcs10CertificateRequest(pem);
      const tmpl = new x509.Pkcs10CertificateRequest(template);
      expect(csr.subject).toBe(tmpl.subject);
      expect(Buffer.from(csr.subjectName.toArrayBuffer())).toEqual(
        Buffer.from(tmpl.subjectName.toArrayBuffer()),
      );
      expect(sanOf(csr)).toEqual(sanOf(tmpl));
      expect(JSON.stringify(sanOf(csr))).toContain(hasOpenssl ? "service.example.com" : "peculiar.example");
      expect(Buffer.from(csr.publicKey.rawData)).toEqual(await publicSpki(e, "k"));
      expect(await csr.verify()).toBe(true);
      // Go's default signature algorithm for the key, right after the request info.
      const raw = Buffer.from(csr.rawData);
      const [, alg] = children(raw, readTlv(raw, 0));
      const [oid] = alg === undefined ? [] : children(raw, alg);
      expect(oid === undefined ? null : whole(raw, oid)).toEqual(encodeOid(SIG_OID[type]));

      if (hasOpenssl) {
        const out = opensslVerify(pem);
        expect(out).toMatch(/verify OK|Certificate request self-signature verify OK/);
        const pub = /-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----\n/.exec(out)?.[0] ?? "";
        expect(createPublicKey(pub).export({ format: "der", type: "spki" })).toEqual(
          await publicSpki(e, "k"),
        );
        expect(out).toContain("service.example.com");
      }
    });
  }

  it("without a template: an empty subject, still signed by the key", async () => {
    const e = new TestEngine();
    await e.write("keys/k", { type: "ecdsa-p256" });
    const r = await e.write("keys/k/csr", {});
    expect(r.status).toBe(200);
    const csr = new x509.Pkcs10CertificateRequest(String(r.data["csr"]));
    expect(csr.subject).toBe("");
    expect(csr.attributes).toEqual([]);
    expect(await csr.verify()).toBe(true);
    if (hasOpenssl) expect(opensslVerify(String(r.data["csr"]))).toMatch(/verify OK/);
  });

  it("a version: that version's key signs; the latest by default", async () => {
    const e = new TestEngine();
    await e.write("keys/k", { type: "ed25519" });
    await e.write("keys/k/rotate");
    const v1 = new x509.Pkcs10CertificateRequest(
      String((await e.write("keys/k/csr", { version: 1 })).data["csr"]),
    );
    const latest = new x509.Pkcs10CertificateRequest(String((await e.write("keys/k/csr", {})).data["csr"]));
    expect(Buffer.from(v1.publicKey.rawData)).toEqual(await publicSpki(e, "k", 1));
    expect(Buffer.from(latest.publicKey.rawData)).toEqual(await publicSpki(e, "k", 2));
    expect(await v1.verify()).toBe(true);
  });

  it("a template made by @peculiar/x509 keeps its subject and SAN", async () => {
    const e = new TestEngine();
    await e.write("keys/k", { type: "rsa-2048" });
    const template = await peculiarTemplate();
    const csr = new x509.Pkcs10CertificateRequest(
      String((await e.write("keys/k/csr", { csr: template })).data["csr"]),
    );
    expect(csr.subject).toBe("CN=peculiar.example, O=Peculiar");
    expect(JSON.stringify(sanOf(csr))).toContain("peculiar.example");
    expect(await csr.verify()).toBe(true);
  });

  it("errors as Vault's", async () => {
    const e = new TestEngine();
    await e.write("keys/aes");
    await e.write("keys/ed", { type: "ed25519" });
    await e.write("keys/derived", { type: "ed25519", derived: true });
    const pub = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({
      format: "pem",
      type: "spki",
    });
    expect((await e.write("keys/pub/import", { type: "ecdsa-p256", public_key: pub })).status).toBe(204);
    const cases: [string, Record<string, unknown>, number, string][] = [
      ["keys/nope/csr", {}, 400, "key with provided name 'nope' not found"],
      ["keys/aes/csr", {}, 400, "key type 'aes256-gcm96' does not support signing"],
      ["keys/derived/csr", {}, 400, "operation not supported on keys with derivation enabled"],
      ["keys/ed/csr", { csr: "garbage" }, 400, "could not decode PEM certificate request"],
      ["keys/ed/csr", { version: 7 }, 400, "could not create the csr: no such key version"],
      ["keys/ed/csr", { version: 0 }, 400, "could not create the csr: no such key version"],
      ["keys/ed/csr", { version: "x" }, 400, 'error converting input for field "version"'],
      [
        "keys/pub/csr",
        {},
        400,
        "could not create the csr: private key not imported for key version selected",
      ],
    ];
    for (const [path, body, status, error] of cases) {
      const r = await e.write(path, body);
      expect([path, r.status]).toEqual([path, status]);
      expect(r.error).toContain(error);
    }
    const notDer = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n";
    const r = await e.write("keys/ed/csr", { csr: notDer });
    expect(r.status).toBe(400);
    expect(r.error).toMatch(/^asn1: /);
  });

  it.runIf(hasOpenssl)("a template with a critical extension fails as Go's marshaling does", async () => {
    const e = new TestEngine();
    await e.write("keys/k", { type: "ed25519" });
    const r = await e.write("keys/k/csr", {
      csr: opensslTemplate(["-addext", "basicConstraints=critical,CA:FALSE"]),
    });
    expect(r.status).toBe(500);
    expect(r.error).toBe(
      "could not create the csr: could not create the cerfificate request: asn1: cannot marshal nil value",
    );
  });

  it.runIf(hasGo && hasOpenssl)(
    "byte for byte what Go's x509.CreateCertificateRequest makes from the same template and key",
    async () => {
      const goCsr = buildGoCsr();
      const e = new TestEngine();
      const templates = [
        "",
        opensslTemplate(),
        opensslTemplate(["-addext", "extendedKeyUsage=serverAuth,clientAuth"]),
        opensslTemplate(["-addext", "basicConstraints=critical,CA:FALSE"]),
        await peculiarTemplate(),
        ...handMadeTemplates(),
      ];
      // RSA PKCS #1 v1.5 and Ed25519 signatures are deterministic: whole requests compare.
      for (const type of ["ed25519", "rsa-2048"] as const) {
        await e.write(`keys/${type}`, { type, exportable: true });
        const key = await exportedKey(e, type, type);
        for (const csr of templates) {
          const want = goCsr(key, csr);
          const got = await e.write(`keys/${type}/csr`, { csr });
          if (want.error !== undefined) {
            expect(got.error).toBe(`could not create the csr: ${want.error}`);
          } else {
            expect(got.data["csr"], String(got.error)).toBe(want.csr);
          }
        }
      }
    },
    GO_TEST_TIMEOUT_MS,
  );

  it.runIf(hasGo && hasOpenssl)(
    "mangled templates: accepted and refused exactly where Go accepts and refuses them, same bytes",
    async () => {
      const goCsr = buildGoCsr();
      const e = new TestEngine();
      await e.write("keys/k", { type: "ed25519", exportable: true });
      const key = await exportedKey(e, "k", "ed25519");
      const der = Buffer.from(new x509.Pkcs10CertificateRequest(opensslTemplate()).rawData);
      const pemOf = (b: Buffer): string =>
        `-----BEGIN CERTIFICATE REQUEST-----\n${(b.toString("base64").match(/.{1,64}/g) ?? []).join("\n")}\n-----END CERTIFICATE REQUEST-----\n`;
      let accepted = 0;
      for (let i = 0; i < der.length; i++) {
        for (const x of [0x01, 0x80]) {
          const mangled = Buffer.from(der);
          mangled[i] = (mangled[i] as number) ^ x;
          const csr = pemOf(mangled);
          const want = goCsr(key, csr);
          const got = await e.write("keys/k/csr", { csr });
          if (want.csr !== undefined) {
            accepted++;
            expect(got.data["csr"], `byte ${i} ^ ${x}: ${got.error}`).toBe(want.csr);
          } else {
            expect(got.status, `byte ${i} ^ ${x}: Go said ${want.error}`).toBe(
              vaultStatus(got.error ?? undefined),
            );
          }
        }
      }
      expect(accepted).toBeGreaterThan(100);
    },
    GO_TEST_TIMEOUT_MS,
  );
});

// ---------------------------------------------------------------- set-certificate

describe("keys/:name/set-certificate", () => {
  for (const type of SIGNING_TYPES) {
    it(`${type}: a chain over the key's public key is stored, shown on read and exported`, async () => {
      const e = new TestEngine();
      await e.write("keys/k", { type });
      const leaf = await issue(intermediate, await publicSpki(e, "k"), { ca: false });
      const chain = `${leaf}${caPem(intermediate)}\n${caPem(root)}`;
      const r = await e.write("keys/k/set-certificate", { certificate_chain: chain });
      expect(r.status).toBe(200);
      expect(r.data).toEqual({ name: "k", type, "certificate-chain": chain });
      const want = trimmedChain(leaf, caPem(intermediate), caPem(root));
      const read = await e.read("keys/k");
      expect((read.data["keys"] as Record<string, Record<string, unknown>>)["1"]?.["certificate_chain"]).toBe(
        want,
      );
      const exported = await e.read("export/certificate-chain/k/1");
      expect((exported.data["keys"] as Record<string, string>)["1"]).toBe(want);
    });
  }

  it("the whole flow: csr, signed by the CA, set back on the key", async () => {
    const e = new TestEngine();
    await e.write("keys/k", { type: "ecdsa-p384" });
    const csr = new x509.Pkcs10CertificateRequest(
      String((await e.write("keys/k/csr", { csr: await peculiarTemplate() })).data["csr"]),
    );
    expect(await csr.verify()).toBe(true);
    const leaf = await issue(root, new Uint8Array(csr.publicKey.rawData), { cn: "peculiar.example" });
    const r = await e.write("keys/k/set-certificate", {
      certificate_chain: leaf + caPem(root),
    });
    expect(r.status).toBe(200);
  });

  it("a version's chain is on that version only; a new chain replaces the old", async () => {
    const e = new TestEngine();
    await e.write("keys/k", { type: "ed25519" });
    await e.write("keys/k/rotate");
    const leaf1 = await issue(root, await publicSpki(e, "k", 1));
    expect((await e.write("keys/k/set-certificate", { version: 1, certificate_chain: leaf1 })).status).toBe(
      200,
    );
    let keys = (await e.read("keys/k")).data["keys"] as Record<string, Record<string, unknown>>;
    expect(keys["1"]?.["certificate_chain"]).toBe(leaf1.trim());
    expect(keys["2"]?.["certificate_chain"]).toBe("");
    expect((await e.read("export/certificate-chain/k/2")).error).toBe(
      "selected key version does not have a certificate chain imported",
    );
    const again = await issue(intermediate, await publicSpki(e, "k", 1), { cn: "again" });
    const chain = again + caPem(intermediate);
    expect((await e.write("keys/k/set-certificate", { version: 1, certificate_chain: chain })).status).toBe(
      200,
    );
    keys = (await e.read("keys/k")).data["keys"] as Record<string, Record<string, unknown>>;
    expect(keys["1"]?.["certificate_chain"]).toBe(trimmedChain(again, caPem(intermediate)));
  });

  it("blocks other than certificates are ignored; X05 CERTIFICATE (Vault's spelling) is one", async () => {
    const e = new TestEngine();
    await e.write("keys/k", { type: "ecdsa-p256" });
    const leaf = await issue(root, await publicSpki(e, "k"));
    const x05 = leaf.replace(/CERTIFICATE/g, "X05 CERTIFICATE");
    const junk = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
    expect((await e.write("keys/k/set-certificate", { certificate_chain: junk + x05 })).status).toBe(200);
    const keys = (await e.read("keys/k")).data["keys"] as Record<string, Record<string, unknown>>;
    expect(keys["1"]?.["certificate_chain"]).toBe(leaf.trim());
  });

  it("errors as Vault's; nothing is stored", async () => {
    const e = new TestEngine();
    await e.write("keys/k", { type: "ecdsa-p256" });
    await e.write("keys/other", { type: "ecdsa-p256" });
    await e.write("keys/rsa", { type: "rsa-2048" });
    await e.write("keys/aes");
    await e.write("keys/derived", { type: "ed25519", derived: true });
    const mine = await issue(root, await publicSpki(e, "k"));
    const others = await issue(root, await publicSpki(e, "other"));
    const rsaLeaf = await issue(root, await publicSpki(e, "rsa"));
    const caFirst = caPem(root) + mine;
    const before = e.snapshot();
    const P = "failed to persist certificate chain";
    const M = `${P}: could not validate key match between leaf certificate key and key version in transit`;
    const cases: [string, Record<string, unknown>, string][] = [
      ["keys/nope/set-certificate", { certificate_chain: mine }, "key with provided name 'nope' not found"],
      [
        "keys/aes/set-certificate",
        { certificate_chain: mine },
        "key type aes256-gcm96 does not support signing",
      ],
      [
        "keys/derived/set-certificate",
        { certificate_chain: mine },
        "operation not supported on keys with derivation enabled",
      ],
      ["keys/k/set-certificate", {}, "provided certificate chain did not contain any valid PEM certificate"],
      [
        "keys/k/set-certificate",
        { certificate_chain: "junk" },
        "could not decode PEM block in certificate chain",
      ],
      [
        "keys/k/set-certificate",
        { certificate_chain: `${mine}\njunk` },
        "could not decode PEM block in certificate chain",
      ],
      [
        "keys/k/set-certificate",
        { certificate_chain: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" },
        "failed to parse certificate in certificate chain: ",
      ],
      [
        "keys/k/set-certificate",
        { certificate_chain: others },
        `${P}: leaf certificate public key does match the key version selected`,
      ],
      [
        "keys/k/set-certificate",
        { certificate_chain: caFirst },
        `${P}: certificate in the first position is not a leaf certificate`,
      ],
      [
        "keys/k/set-certificate",
        { certificate_chain: mine + (await issue(root, await publicSpki(e, "other"), { ca: false })) },
        `${P}: provided certificate chain contains more than one leaf certificate`,
      ],
      [
        "keys/k/set-certificate",
        { certificate_chain: rsaLeaf },
        `${M}: provided leaf certificate public key algorithm 'RSA' does not match the transit key type 'ecdsa-p256'`,
      ],
      ["keys/k/set-certificate", { certificate_chain: mine, version: 5 }, `${M}: no such key version`],
    ];
    for (const [path, body, error] of cases) {
      const r = await e.write(path, body);
      expect([path, error, r.status]).toEqual([path, error, vaultStatus(error)]);
      expect(r.error?.startsWith(error), `${r.error} vs ${error}`).toBe(true);
    }
    expect(e.snapshot()).toEqual(before);
  });

  it.runIf(hasGo)(
    "mangled leaf certificates: stored and refused exactly where Vault's Go code stores and refuses them, same texts",
    async () => {
      const goCheck = buildGo("certchain");
      const e = new TestEngine();
      let stored = 0;
      for (const type of ["ecdsa-p256", "ed25519"] as const) {
        await e.write(`keys/${type}`, { type });
        const spki = await publicSpki(e, type);
        const pub = createPublicKey({ key: spki, format: "der", type: "spki" }).export({
          format: "pem",
          type: "spki",
        });
        const leaf = new x509.X509Certificate(await issue(intermediate, spki, { ca: false }));
        const der = Buffer.from(leaf.rawData);
        for (let i = 0; i < der.length; i++) {
          for (const x of [0x01, 0x80]) {
            const mangled = Buffer.from(der);
            mangled[i] = (mangled[i] as number) ^ x;
            const chain = `-----BEGIN CERTIFICATE-----\n${mangled.toString("base64")}\n-----END CERTIFICATE-----\n${caPem(intermediate)}`;
            const want = goCheck({ pub, type, chain });
            const got = await e.write(`keys/${type}/set-certificate`, { certificate_chain: chain });
            if (want["error"] === undefined) {
              stored++;
              expect(got.status, `${type} byte ${i} ^ ${x}: ${got.error}`).toBe(200);
            } else {
              expect([got.status, got.error], `${type} byte ${i} ^ ${x}`).toEqual([
                vaultStatus(want["error"]),
                want["error"],
              ]);
            }
          }
        }
      }
      expect(stored).toBeGreaterThan(100);
    },
    GO_TEST_TIMEOUT_MS,
  );

  it("the chain survives storage (a fresh engine on the same storage) and backup/restore", async () => {
    const e = new TestEngine();
    await e.write("keys/k", { type: "rsa-2048", exportable: true, allow_plaintext_backup: true });
    const leaf = await issue(intermediate, await publicSpki(e, "k"));
    const chain = leaf + caPem(intermediate);
    expect((await e.write("keys/k/set-certificate", { certificate_chain: chain })).status).toBe(200);
    const want = trimmedChain(leaf, caPem(intermediate));

    const fresh = new TestEngine(createTransitBackend());
    for (const [k, v] of e.storage.entries) fresh.storage.entries.set(k, v);
    let keys = (await fresh.read("keys/k")).data["keys"] as Record<string, Record<string, unknown>>;
    expect(keys["1"]?.["certificate_chain"]).toBe(want);

    const backup = String((await e.read("backup/k")).data["backup"]);
    const blob = JSON.parse(Buffer.from(backup, "base64").toString("utf8")) as {
      policy: { keys: Record<string, { certificate_chain?: string[] }> };
      archived_keys: { keys: { certificate_chain?: string[] }[] };
    };
    const der = [leaf, caPem(intermediate)].map((p) =>
      Buffer.from(new x509.X509Certificate(p).rawData).toString("base64"),
    );
    expect(blob.policy.keys["1"]?.certificate_chain).toEqual(der);
    expect(blob.archived_keys.keys[1]?.certificate_chain).toEqual(der);

    const other = new TestEngine();
    expect((await other.write("restore/k", { backup })).status).toBe(204);
    keys = (await other.read("keys/k")).data["keys"] as Record<string, Record<string, unknown>>;
    expect(keys["1"]?.["certificate_chain"]).toBe(want);
    expect((await other.read("export/certificate-chain/k")).data["keys"]).toEqual({ "1": want });
  });
});

// ---------------------------------------------------------------- mangled input

describe("mangled requests and chains: a 200, a 400 or one of Vault's plain-error 500s, never a throw", () => {
  const pemOf = (label: string, der: Uint8Array): string =>
    `-----BEGIN ${label}-----\n${(
      Buffer.from(der)
        .toString("base64")
        .match(/.{1,64}/g) ?? []
    ).join("\n")}\n-----END ${label}-----\n`;
  const mangle = (der: Buffer): fc.Arbitrary<Buffer> =>
    fc.oneof(
      fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
        const b = Buffer.from(der);
        b[i % b.length] = (b[i % b.length] as number) ^ x;
        return b;
      }),
      fc.nat().map((n) => der.subarray(0, n % der.length)),
      fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([i, junk]) => {
        const at = i % der.length;
        return Buffer.concat([der.subarray(0, at), junk, der.subarray(at)]);
      }),
    );

  it("csr templates", async () => {
    const e = new TestEngine();
    for (const type of ["ed25519", "ecdsa-p256", "rsa-2048"]) await e.write(`keys/${type}`, { type });
    const template = hasOpenssl ? opensslTemplate() : await peculiarTemplate();
    const der = Buffer.from(new x509.Pkcs10CertificateRequest(template).rawData);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("ed25519", "ecdsa-p256", "rsa-2048"),
        fc.oneof(
          mangle(der).map((b) => pemOf("CERTIFICATE REQUEST", b)),
          fc.string({ maxLength: 80 }),
        ),
        async (type, csr) => {
          const r = await e.write(`keys/${type}/csr`, { csr });
          expect([200, vaultStatus(r.error ?? undefined)]).toContain(r.status);
          // The subject is copied as given (as Go copies RawSubject), however odd its encoding.
          if (r.status === 200)
            expect(String(r.data["csr"])).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----\n/);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("certificate chains", async () => {
    const e = new TestEngine();
    await e.write("keys/k", { type: "ecdsa-p256" });
    const leaf = await issue(root, await publicSpki(e, "k"));
    const der = Buffer.from(new x509.X509Certificate(leaf).rawData);
    const rootDer = Buffer.from(root.cert.rawData);
    await fc.assert(
      fc.asyncProperty(fc.oneof(mangle(der), mangle(rootDer)), fc.boolean(), async (bad, first) => {
        const before = e.snapshot();
        const chain = first ? pemOf("CERTIFICATE", bad) + caPem(root) : leaf + pemOf("CERTIFICATE", bad);
        const r = await e.write("keys/k/set-certificate", { certificate_chain: chain });
        expect([200, vaultStatus(r.error ?? undefined)]).toContain(r.status);
        if (r.status !== 200) expect(e.snapshot()).toEqual(before);
      }),
      { numRuns: 300 },
    );
  });
});
