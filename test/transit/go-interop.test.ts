/**
 * Backups between this engine and Go's encoding/json: go-interop/keydata.go
 * (standard library only, structs carrying keysutil's JSON tags) writes
 * blobs the way Vault's Backup does, with Go's time.Time (zone offsets,
 * nanoseconds), big.Int and rsa.PrivateKey encodings, plus ciphertexts and
 * signatures made by Go's crypto; they restore here and decrypt/verify. In
 * the other direction our blobs decode in Go with DisallowUnknownFields and
 * their keys decrypt and verify what this engine produced.
 * For an OpenBao host the blobs decode with OpenBao's Policy fields and
 * carry its key type numbers.
 * Skipped (with the reason) when no Go toolchain is installed.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { createTransitBackend } from "../../src/transit/backend.ts";
import { b64, TestEngine, unb64 } from "../helpers/engine.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
const hasGo = spawnSync("sh", ["-c", "command -v go"], { stdio: "ignore" }).status === 0;
/**
 * Tests that compile and run Go programs: \`go build\`/\`go run\` of a cold cache takes minutes on a
 * loaded 2-core machine, far past vitest's default 30 s. A generous limit, not a timing assertion.
 */
const GO_TEST_TIMEOUT_MS = 300_000;
const work = mkdtempSync(join(tmpdir(), "transit-go-interop-"));

afterAll(() => rmSync(work, { recursive: true, force: true }));

function runGo(mode: "make" | "check" | "check-openbao", input = ""): Record<string, string> {
  copyFileSync(join(HERE, "go-interop", "keydata.go"), join(work, "keydata.go"));
  const r = spawnSync("go", ["run", "keydata.go", mode], {
    cwd: work,
    input,
    encoding: "utf8",
    timeout: 240_000,
    env: {
      ...process.env,
      GO111MODULE: "off",
      GOFLAGS: "",
      GOCACHE: join(work, "cache"),
      GOPATH: join(work, "gopath"),
      HOME: work,
      TZ: "America/New_York",
    },
  });
  if (r.status !== 0) throw new Error(`go run failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, string>;
}

describe.skipIf(!hasGo)("backups between Go's encoding/json and this engine (no Go: skipped)", () => {
  it(
    "blobs written by Go restore here and decrypt/verify Go's ciphertexts and signatures",
    async () => {
      const fx = runGo("make");
      const msg = Buffer.from(fx["message"] ?? "");
      const e = new TestEngine();
      for (const k of ["aes", "rsa", "ec", "ed"]) {
        const r = await e.write("restore", { backup: fx[k] });
        expect(r.error, k).toBeNull();
        expect(r.status).toBe(204);
      }
      // aes: v1 sits only in the archive (min_decryption_version 2).
      for (const v of [2, 3]) {
        const dec = await e.write("decrypt/go-aes", { ciphertext: fx[`aes_ct_v${v}`] });
        expect(unb64(dec.data["plaintext"]).equals(msg)).toBe(true);
      }
      expect((await e.write("decrypt/go-aes", { ciphertext: fx["aes_ct_v1"] })).status).toBe(400);
      await e.write("keys/go-aes/config", { min_decryption_version: 1 });
      expect(
        unb64((await e.write("decrypt/go-aes", { ciphertext: fx["aes_ct_v1"] })).data["plaintext"]).equals(
          msg,
        ),
      ).toBe(true);
      expect((await e.write("hmac/go-aes", { input: b64(msg) })).data["hmac"]).toBe(fx["aes_hmac"]);
      const read = (await e.read("keys/go-aes")).data;
      expect(read["latest_version"]).toBe(3);
      expect(typeof (read["keys"] as Record<string, number>)["1"]).toBe("number");

      expect(
        unb64((await e.write("decrypt/go-rsa", { ciphertext: fx["rsa_ct"] })).data["plaintext"]).equals(msg),
      ).toBe(true);
      expect(
        (await e.write("verify/go-rsa", { input: b64(msg), signature: fx["rsa_sig"] })).data["valid"],
      ).toBe(true);
      expect(
        (await e.write("verify/go-ec", { input: b64(msg), signature: fx["ec_sig"] })).data["valid"],
      ).toBe(true);
      expect(
        (await e.write("verify/go-ed", { input: b64(msg), signature: fx["ed_sig"] })).data["valid"],
      ).toBe(true);
    },
    GO_TEST_TIMEOUT_MS,
  );

  it(
    "our blobs decode in Go with DisallowUnknownFields; their keys decrypt and verify what we made",
    async () => {
      const e = new TestEngine();
      const msg = Buffer.from("made by the TypeScript engine");
      const opts = { exportable: true, allow_plaintext_backup: true };
      await e.write("keys/aes", opts);
      await e.write("keys/rsa", { ...opts, type: "rsa-2048" });
      await e.write("keys/ec", { ...opts, type: "ecdsa-p256" });
      await e.write("keys/ed", { ...opts, type: "ed25519" });
      await e.write("keys/hmac", { ...opts, type: "hmac" });
      const data = async (p: string, body: Record<string, unknown>, f: string) =>
        String((await e.write(p, body)).data[f]);
      const input: Record<string, string> = {
        message: msg.toString(),
        aes_ct: await data("encrypt/aes", { plaintext: b64(msg) }, "ciphertext"),
        rsa_ct: await data("encrypt/rsa", { plaintext: b64(msg) }, "ciphertext"),
        rsa_sig: await data("sign/rsa", { input: b64(msg) }, "signature"),
        ec_sig: await data("sign/ec", { input: b64(msg) }, "signature"),
        ed_sig: await data("sign/ed", { input: b64(msg) }, "signature"),
        hmac_mac: await data("hmac/hmac", { input: b64(msg) }, "hmac"),
      };
      for (const k of ["aes", "rsa", "ec", "ed", "hmac"]) {
        input[k] = String((await e.read(`backup/${k}`)).data["backup"]);
      }
      const res = runGo("check", JSON.stringify(input));
      expect(res).toEqual({
        aes: "ok",
        aes_archive: "ok",
        aes_times: "ok",
        rsa: "ok",
        rsa_sig: "ok",
        ec: "ok",
        ec_sig: "ok",
        ed: "ok",
        ed_sig: "ok",
        hmac: "ok",
      });
    },
    GO_TEST_TIMEOUT_MS,
  );

  it(
    "for an OpenBao host our blobs carry OpenBao's fields exactly and its numbering (hmac 10)",
    async () => {
      const e = new TestEngine(createTransitBackend({ hostEngine: "openbao" }));
      const opts = { exportable: true, allow_plaintext_backup: true };
      await e.write("keys/aes", opts);
      await e.write("keys/hmac", { ...opts, type: "hmac" });
      const message = "made for OpenBao";
      const input = {
        message,
        hmac_mac: String((await e.write("hmac/hmac", { input: b64(message) })).data["hmac"]),
        aes: String((await e.read("backup/aes")).data["backup"]),
        hmac: String((await e.read("backup/hmac")).data["backup"]),
      };
      expect(runGo("check-openbao", JSON.stringify(input))).toEqual({ aes: "type 0", hmac: "type 10" });
    },
    GO_TEST_TIMEOUT_MS,
  );
});
