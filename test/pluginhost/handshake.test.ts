/**
 * The handshake line as the host reads it, checked as go-plugin's client.go
 * checks it, and the auto-mTLS certificates the host makes (mtls.go's shape).
 */
import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { generateAutoMtlsCert, serverCertFromHandshake } from "../../src/pluginhost/certs.ts";
import { HandshakeError, parseHandshakeLine } from "../../src/pluginhost/handshake.ts";

const cert = await generateAutoMtlsCert();
const x = new X509Certificate(cert.certPem);
/** Base64 standard alphabet without padding, as go-plugin writes the certificate. */
const certField = Buffer.from(x.raw).toString("base64").replace(/=+$/, "");
const opts = { versions: [5], autoMTLS: true };

function err(line: string, o = opts): string {
  try {
    parseHandshakeLine(line, o);
  } catch (e) {
    expect(e).toBeInstanceOf(HandshakeError);
    return (e as Error).message;
  }
  throw new Error(`accepted ${line}`);
}

describe("auto-mTLS certificate", () => {
  it("has go-plugin's shape: P-521 ECDSA, CN and SAN localhost, O HashiCorp, CA, client and server auth", () => {
    expect(x.subject).toContain("CN=localhost");
    expect(x.subject).toContain("O=HashiCorp");
    expect(x.subjectAltName).toBe("DNS:localhost");
    expect(x.ca).toBe(true);
    expect(x.keyUsage?.sort()).toEqual(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]);
    expect(x.publicKey.asymmetricKeyDetails?.namedCurve).toBe("secp521r1");
    expect(x.checkIssued(x)).toBe(true);
    expect(x.verify(x.publicKey)).toBe(true);
    expect(new Date(x.validFrom).getTime()).toBeLessThanOrEqual(Date.now());
    expect(new Date(x.validTo).getTime()).toBeGreaterThan(Date.now() + 20 * 365 * 24 * 3600 * 1000);
    expect(cert.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
  });

  it("is fresh each time", async () => {
    const other = await generateAutoMtlsCert();
    expect(other.certPem).not.toBe(cert.certPem);
    expect(new X509Certificate(other.certPem).serialNumber).not.toBe(x.serialNumber);
  });

  it("reads the plugin's certificate from the handshake field", () => {
    const { pem, cert: parsed } = serverCertFromHandshake(certField);
    expect(parsed.fingerprint256).toBe(x.fingerprint256);
    expect(new X509Certificate(pem).fingerprint256).toBe(x.fingerprint256);
    expect(() => serverCertFromHandshake(`${certField}==`)).toThrow(/no padding/);
    expect(() => serverCertFromHandshake("AAAA".repeat(20))).toThrow(/does not parse/);
  });
});

describe("handshake line", () => {
  it("accepts go-plugin's line and keeps what the host needs", () => {
    const hs = parseHandshakeLine(`1|5|tcp|127.0.0.1:10000|grpc|${certField}\n`, opts);
    expect(hs).toMatchObject({ appVersion: 5, network: "tcp", address: "127.0.0.1:10000", protocol: "grpc" });
    expect(hs.serverCert?.fingerprint256).toBe(x.fingerprint256);
    expect(hs.serverCertPem).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });

  it("accepts a unix socket, an IPv6 loopback address and the multiplexed-broker flag", () => {
    expect(parseHandshakeLine(`1|5|unix|/tmp/plugin.sock|grpc|${certField}`, opts).network).toBe("unix");
    expect(parseHandshakeLine(`1|5|tcp|[::1]:10001|grpc|${certField}`, opts).address).toBe("[::1]:10001");
    expect(parseHandshakeLine(`1|5|tcp|127.0.0.1:10000|grpc|${certField}|true`, opts).appVersion).toBe(5);
  });

  it("picks only a version the host offered", () => {
    expect(
      parseHandshakeLine(`1|4|tcp|127.0.0.1:1|grpc|${certField}`, { ...opts, versions: [3, 4] }).appVersion,
    ).toBe(4);
    expect(err(`1|4|tcp|127.0.0.1:1|grpc|${certField}`)).toBe(
      "incompatible API version with plugin. Plugin version: 4, Client versions: [5]",
    );
    expect(err(`1|x|tcp|127.0.0.1:1|grpc|${certField}`)).toMatch(/^Error parsing protocol version/);
  });

  it("refuses what go-plugin refuses", () => {
    expect(err("")).toMatch(/^Unrecognized remote plugin message/);
    expect(err("hello world")).toMatch(/^Unrecognized remote plugin message: "hello world"/);
    expect(err(`2|5|tcp|127.0.0.1:1|grpc|${certField}`)).toMatch(
      /^incompatible core API version with plugin/,
    );
    expect(err(`a|5|tcp|127.0.0.1:1|grpc|${certField}`)).toMatch(/^error parsing core protocol version/);
    expect(err(`1|5|udp|127.0.0.1:1|grpc|${certField}`)).toMatch(/^unknown address type/);
    expect(err(`1|5|tcp|127.0.0.1|grpc|${certField}`)).toMatch(/^invalid plugin address/);
    expect(err(`1|5|tcp|127.0.0.1:70000|grpc|${certField}`)).toMatch(/^invalid plugin address/);
    expect(err(`1|5|tcp|example.com:80|grpc|${certField}`)).toMatch(/is not an IP address/);
    expect(err(`1|5|unix|relative.sock|grpc|${certField}`)).toMatch(/^invalid unix socket path/);
    // Without the protocol field go-plugin assumes net/rpc, which Vault does not allow.
    expect(err("1|5|tcp|127.0.0.1:1")).toBe('unsupported plugin protocol "netrpc". Supported: [grpc]');
    expect(err(`1|5|tcp|127.0.0.1:1|netrpc|${certField}`)).toMatch(/^unsupported plugin protocol "netrpc"/);
  });

  it("requires the plugin's certificate under auto-mTLS; short extra data is not a certificate", () => {
    expect(err("1|5|tcp|127.0.0.1:1|grpc")).toMatch(/no server certificate/);
    expect(err("1|5|tcp|127.0.0.1:1|grpc|short-extra-data")).toMatch(/no server certificate/);
    expect(
      parseHandshakeLine("1|5|tcp|127.0.0.1:1|grpc|", { ...opts, autoMTLS: false }).serverCertPem,
    ).toBeNull();
    expect(err(`1|5|tcp|127.0.0.1:1|grpc|${"A".repeat(60)}!`)).toMatch(/^error parsing server cert/);
  });

  it("shortens a long garbage line in its message", () => {
    expect(err("x".repeat(5000)).length).toBeLessThan(300);
  });
});
