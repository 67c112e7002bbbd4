import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** PEM material for a mutually authenticated TLS connection on loopback. */
export interface MtlsMaterial {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/**
 * A throwaway CA and a server and a client certificate signed by it
 * (ECDSA P-256, valid for a day, SANs localhost and 127.0.0.1), the shape of
 * go-plugin's automatic mTLS, made fresh for every run with the system's
 * `openssl` (the project's X.509 library needs a reflect polyfill the bench
 * does not want to load).
 */
export async function makeMtls(tmp: string): Promise<MtlsMaterial> {
  const dir = mkdtempSync(path.join(tmp, "mtls-"));
  const f = (name: string): string => path.join(dir, name);
  const ssl = (...args: string[]) => run("openssl", args, { cwd: dir, timeout: 30_000 });
  try {
    await ssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", f("ca.key"));
    await ssl(
      "req",
      "-x509",
      "-new",
      "-key",
      f("ca.key"),
      "-subj",
      "/CN=bench CA",
      "-days",
      "1",
      "-out",
      f("ca.pem"),
      "-addext",
      "basicConstraints=critical,CA:TRUE,pathlen:0",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    );
    const leaf = async (name: string, cn: string, usage: string): Promise<void> => {
      await ssl(
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        f(`${name}.key`),
      );
      await ssl("req", "-new", "-key", f(`${name}.key`), "-subj", `/CN=${cn}`, "-out", f(`${name}.csr`));
      writeFileSync(
        f(`${name}.ext`),
        `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\nextendedKeyUsage=${usage}\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n`,
      );
      await ssl(
        "x509",
        "-req",
        "-in",
        f(`${name}.csr`),
        "-CA",
        f("ca.pem"),
        "-CAkey",
        f("ca.key"),
        "-set_serial",
        name === "server" ? "2" : "3",
        "-days",
        "1",
        "-extfile",
        f(`${name}.ext`),
        "-out",
        f(`${name}.pem`),
      );
    };
    await leaf("server", "localhost", "serverAuth");
    await leaf("client", "bench client", "clientAuth");
    const read = (name: string): string => readFileSync(f(name), "utf8");
    return {
      ca: read("ca.pem"),
      serverCert: read("server.pem"),
      serverKey: read("server.key"),
      clientCert: read("client.pem"),
      clientKey: read("client.key"),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
