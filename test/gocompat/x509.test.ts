/**
 * src/gocompat/x509.ts and x509-san.ts on certificates made by independent
 * code (@peculiar/x509), then mutated to hit crypto/x509/parser.go's
 * refusals with its texts (trailing data, negative serial, mismatched
 * signature algorithms, duplicate extensions, malformed SAN URIs).
 */
import "../../src/util/reflect-polyfill.ts";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { beforeAll, describe, expect, it } from "vitest";
import { DerError } from "../../src/crypto/der.ts";
import { parseCertificate, publicKeyValue } from "../../src/gocompat/x509.ts";
import { checkSanExtension, quoteAscii } from "../../src/gocompat/x509-san.ts";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[1]);

let ca: Buffer;
let leaf: Buffer;
let leafSpki: Buffer;

beforeAll(async () => {
  const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const make = async (isCA: boolean, serial: string) =>
    Buffer.from(
      (
        await x509.X509CertificateGenerator.createSelfSigned({
          serialNumber: serial,
          name: isCA ? "CN=Test CA" : "CN=leaf.example, O=Example",
          notBefore: new Date("2024-01-01T00:00:00Z"),
          notAfter: new Date("2060-01-01T00:00:00Z"),
          keys,
          signingAlgorithm: alg,
          extensions: [
            new x509.BasicConstraintsExtension(isCA, undefined, true),
            new x509.SubjectAlternativeNameExtension([{ type: "url", value: "spiffe://example.org/x" }]),
          ],
        })
      ).rawData,
    );
  ca = await make(true, "01");
  leaf = await make(false, "0a");
  leafSpki = Buffer.from(await webcrypto.subtle.exportKey("spki", keys.publicKey));
});

describe("x509.ParseCertificate", () => {
  it("what Vault reads: basic constraints, the key algorithm, the SPKI", () => {
    const c = parseCertificate(ca);
    expect([c.basicConstraintsValid, c.isCA, c.publicKeyAlgorithm]).toEqual([true, true, "ECDSA"]);
    const l = parseCertificate(leaf);
    expect([l.basicConstraintsValid, l.isCA]).toEqual([true, false]);
    expect(l.spki).toEqual(leafSpki);
    expect(publicKeyValue(l.spki)).toBe(publicKeyValue(leafSpki));
  });

  it("Go's refusals and texts", () => {
    expect(() => parseCertificate(Buffer.concat([leaf, Buffer.of(0)]))).toThrow("x509: trailing data");
    expect(() => parseCertificate(leaf.subarray(0, leaf.length - 1))).toThrow("x509: malformed certificate");
    // The serial's first content octet (after the [0] version) turned negative.
    const neg = Buffer.from(leaf);
    const at = neg.indexOf(Buffer.from("02010a", "hex"));
    neg[at + 2] = 0x8a;
    expect(() => parseCertificate(neg)).toThrow("x509: negative serial number");
  });
});

describe("parseSANExtension", () => {
  const san = (...names: string[]) => {
    const body = Buffer.concat(names.map((n) => Buffer.from(n, "hex")));
    return Buffer.concat([Buffer.of(0x30, body.length), body]);
  };
  const uri = (s: string) =>
    Buffer.concat([Buffer.of(0x86, s.length), Buffer.from(s, "latin1")]).toString("hex");

  it("DNS, IP and URI names as Go accepts them", () => {
    expect(() =>
      checkSanExtension(san("820b6578616d706c652e636f6d", "87040a000001", uri("https://a.example/p"))),
    ).not.toThrow();
  });

  it("refusals with Go's texts", () => {
    expect(() => checkSanExtension(san("8703010203"))).toThrow("x509: cannot parse IP address of length 3");
    expect(() => checkSanExtension(san("8201ff"))).toThrow("x509: SAN dNSName is malformed");
    expect(() => checkSanExtension(san(uri("a\tb")))).toThrow(
      'x509: cannot parse URI "a\\tb": parse "a\\tb": net/url: invalid control character in URL',
    );
    expect(() => checkSanExtension(san(uri("http://a..b/")))).toThrow(DerError);
    expect(() => checkSanExtension(Buffer.from("0400", "hex"))).toThrow(
      "x509: invalid subject alternative names",
    );
  });

  it("strconv.Quote of ASCII", () => {
    expect(quoteAscii('a"\\\x07\x7f')).toBe('"a\\"\\\\\\a\\x7f"');
  });
});
