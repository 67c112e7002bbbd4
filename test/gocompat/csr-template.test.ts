/**
 * src/gocompat/csr-template.ts on requests made by independent code
 * (@peculiar/x509): the raw subject kept, the attributes re-encoded as Go's
 * newRawAttributes (extensionRequest back byte for byte), and Go's
 * ParseCertificateRequest refusals (duplicate requested extensions,
 * trailing data, a bad public key).
 */
import "../../src/util/reflect-polyfill.ts";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { beforeAll, describe, expect, it } from "vitest";
import { children, encodeTlv, readTlv, TAG, whole } from "../../src/crypto/der.ts";
import {
  EMPTY_CSR_TEMPLATE,
  encodeTemplateAttributes,
  parseCsrTemplate,
} from "../../src/gocompat/csr-template.ts";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[1]);

let csr: Buffer;

beforeAll(async () => {
  const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const req = await x509.Pkcs10CertificateRequestGenerator.create({
    name: "CN=svc.example, O=Example",
    keys,
    signingAlgorithm: alg,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: "dns", value: "svc.example" }])],
  });
  csr = Buffer.from(req.rawData);
});

/** The request's CertificationRequestInfo children: version, subject, SPKI, [0] attributes. */
const info = (der: Buffer) => children(der, children(der, readTlv(der, 0))[0] as ReturnType<typeof readTlv>);

describe("x509.ParseCertificateRequest as a template", () => {
  it("keeps the raw subject and writes the extensionRequest attribute back unchanged", () => {
    const t = parseCsrTemplate(csr);
    const [, subject, , attrs] = info(csr);
    expect(t.subject).toEqual(whole(csr, subject as ReturnType<typeof readTlv>));
    const original = children(csr, attrs as ReturnType<typeof readTlv>).map((a) => whole(csr, a));
    expect(encodeTemplateAttributes(t)).toEqual(original);
    expect(EMPTY_CSR_TEMPLATE.subject.toString("hex")).toBe("3000");
  });

  it("Go's refusals", () => {
    expect(() => parseCsrTemplate(Buffer.concat([csr, Buffer.of(0)]))).toThrow(
      "asn1: syntax error: trailing data",
    );
    // The extensionRequest's SEQUENCE OF Extension with its one extension twice.
    const [version, subject, spki, attrs] = info(csr).map((t) => whole(csr, t));
    const attr = children(csr, info(csr)[3] as ReturnType<typeof readTlv>)[0] as ReturnType<typeof readTlv>;
    const [oid, set] = children(csr, attr);
    const extSeq = children(csr, set as ReturnType<typeof readTlv>)[0] as ReturnType<typeof readTlv>;
    const ext = whole(csr, children(csr, extSeq)[0] as ReturnType<typeof readTlv>);
    const dupAttr = encodeTlv(
      TAG.SEQUENCE,
      whole(csr, oid as ReturnType<typeof readTlv>),
      encodeTlv(TAG.SET, encodeTlv(TAG.SEQUENCE, ext, ext)),
    );
    const rebuilt = (a: Buffer, key = spki as Buffer) =>
      encodeTlv(
        TAG.SEQUENCE,
        encodeTlv(TAG.SEQUENCE, version as Buffer, subject as Buffer, key, encodeTlv(0xa0, a)),
        Buffer.from("300a06082a8648ce3d040302", "hex"),
        Buffer.from("030100", "hex"),
      );
    expect(() => parseCsrTemplate(rebuilt(dupAttr))).toThrow(
      "x509: certificate request contains duplicate requested extensions",
    );
    expect(attrs).toBeDefined();
    const badKey = Buffer.from(`3029300506032b6570032000${"11".repeat(31)}`, "hex");
    expect(() => parseCsrTemplate(rebuilt(Buffer.alloc(0), badKey))).toThrow(
      "x509: wrong Ed25519 public key size",
    );
  });
});
