/**
 * Many callers encrypt, decrypt and rewrap one key while another rotates it,
 * moves min_decryption_version, trims it, and backs it up and restores it
 * (with force, from a backup of its current state). No request may see a
 * half-written keyring (every answer is a clean success or a clean 4xx),
 * and every ciphertext handed out decrypts afterwards unless its version was
 * deliberately trimmed or blocked.
 */
import { describe, expect, it } from "vitest";
import { b64, TestEngine, unb64 } from "../helpers/engine.ts";

const CALLERS = 32;
const ROUNDS = 40;
const ROTATIONS = 20;

describe("concurrent use of one key during rotation, config and trim", () => {
  it("keeps every acknowledged ciphertext decryptable unless its version was trimmed or blocked", async () => {
    const e = new TestEngine();
    await e.write("keys/k", { exportable: true, allow_plaintext_backup: true });
    let restores = 0;
    const issued: { ct: string; pt: string; version: number }[] = [];
    const failures: string[] = [];
    let stop = false;

    const caller = async (id: number) => {
      for (let i = 0; i < ROUNDS || !stop; i++) {
        await new Promise((r) => setImmediate(r));
        const pt = `caller-${id}-msg-${i}`;
        const enc = await e.write("encrypt/k", { plaintext: b64(pt) });
        if (enc.status !== 200) {
          failures.push(`encrypt ${enc.status} ${enc.error}`);
          continue;
        }
        const ct = String(enc.data["ciphertext"]);
        issued.push({ ct, pt, version: Number(enc.data["key_version"]) });
        const dec = await e.write("decrypt/k", { ciphertext: ct });
        // A concurrent min_decryption_version change may refuse it; anything else is a failure.
        if (dec.status === 200) {
          if (unb64(dec.data["plaintext"]).toString() !== pt)
            failures.push("decrypt returned the wrong plaintext");
        } else if (dec.error !== "ciphertext or signature version is disallowed by policy (too old)") {
          failures.push(`decrypt ${dec.status} ${dec.error}`);
        }
        const rw = await e.write("rewrap/k", { ciphertext: ct });
        if (rw.status === 200)
          issued.push({ ct: String(rw.data["ciphertext"]), pt, version: Number(rw.data["key_version"]) });
        else if (rw.status !== 400) failures.push(`rewrap ${rw.status} ${rw.error}`);
      }
    };

    const operator = async () => {
      let v = 1;
      while (v < ROTATIONS) {
        await e.write("keys/k/rotate");
        v++;
        if (v % 3 === 0) {
          // Block old versions for a moment, then let them back in.
          await e.write("keys/k/config", { min_decryption_version: v - 1 });
          await new Promise((r) => setImmediate(r));
          await e.write("keys/k/config", { min_decryption_version: 3 > v ? 1 : 3 });
        }
        if (v === 8) {
          await e.write("keys/k/config", { min_decryption_version: 3, min_encryption_version: 3 });
          const trim = await e.write("keys/k/trim", { min_available_version: 3 });
          if (trim.status !== 200) failures.push(`trim ${trim.status} ${trim.error}`);
        }
        if (v % 4 === 0) {
          // Back up the key as it is and restore it over itself while the callers keep going.
          const backup = await e.read("backup/k");
          if (backup.status !== 200) failures.push(`backup ${backup.status} ${backup.error}`);
          else {
            const restore = await e.write("restore/k", { backup: backup.data["backup"], force: true });
            if (restore.status >= 300) failures.push(`restore ${restore.status} ${restore.error}`);
            else restores++;
          }
        }
        for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      }
      stop = true;
    };

    await Promise.all([operator(), ...Array.from({ length: CALLERS }, (_, i) => caller(i))]);
    expect(failures).toEqual([]);

    const key = (await e.read("keys/k")).data;
    const minAvailable = Number(key["min_available_version"]);
    await e.write("keys/k/config", { min_decryption_version: Math.max(1, minAvailable) });
    let checked = 0;
    for (const { ct, pt, version } of issued) {
      const dec = await e.write("decrypt/k", { ciphertext: ct });
      if (version < minAvailable) {
        expect(dec.status).toBe(400);
        continue;
      }
      expect(dec.status, `${ct} (v${version})`).toBe(200);
      expect(unb64(dec.data["plaintext"]).toString()).toBe(pt);
      checked++;
    }
    expect(checked).toBeGreaterThan(CALLERS * ROUNDS);
    console.log(
      `concurrency: ${issued.length} ciphertexts issued by ${CALLERS} callers, ${checked} verified after ${key["latest_version"]} versions and ${restores} backup/restore rounds`,
    );
  });
});
