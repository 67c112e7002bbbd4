/**
 * Child process of the database-corruption test (faults.test.ts): for each
 * trial on its command line, copies the pristine data directory, flips bytes
 * of the lmdb file at the given offsets, opens the store and reads every
 * expected entry, and prints one JSON line with what it saw. Runs in its own
 * process because LMDB has no page checksums: a damaged branch page can
 * crash the reader, and a crash must not take the test runner with it.
 *
 *   node --import tsx open-corrupted.ts <pristine-dir> <unseal-key-hex> <expected.json> <offset:xor,...>...
 *
 * Outcomes: "refused" (open threw), "detected" (a read or the scan threw, or
 * an entry failed authentication), "intact" (every entry read back exactly),
 * "missing" (an entry was absent without any error), "wrong" (an entry came
 * back with other bytes without any error: silent acceptance, must never happen).
 */
import {
  closeSync,
  copyFileSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DB_FILE, EncryptedStore } from "../../../src/host/storage/store.ts";

const [pristine, keyHex, expectedFile, ...trials] = process.argv.slice(2);
const expected = JSON.parse(readFileSync(expectedFile!, "utf8")) as Record<string, string>;
const key = Buffer.from(keyHex!, "hex");

for (const trial of trials) {
  const dir = mkdtempSync(join(tmpdir(), "corrupt-trial-"));
  let outcome: string;
  let detail = "";
  try {
    copyFileSync(join(pristine!, DB_FILE), join(dir, DB_FILE));
    const fd = openSync(join(dir, DB_FILE), "r+");
    for (const flip of trial.split(",")) {
      const [offset, xor] = flip.split(":").map(Number) as [number, number];
      const b = Buffer.alloc(1);
      readSync(fd, b, 0, 1, offset);
      b[0] = (b[0] ?? 0) ^ xor;
      writeSync(fd, b, 0, 1, offset);
    }
    closeSync(fd);
    let store: EncryptedStore;
    try {
      store = await EncryptedStore.open(dir, key);
    } catch (e) {
      outcome = "refused";
      detail = (e as Error).message;
      throw null;
    }
    outcome = "intact";
    try {
      for (const [path, hex] of Object.entries(expected)) {
        const got = await store.get(path);
        if (got === null) {
          if (outcome === "intact") outcome = "missing";
          detail ||= path;
        } else if (got.toString("hex") !== hex) {
          outcome = "wrong";
          detail = path;
          break;
        }
      }
      if (outcome !== "wrong") {
        // The integrity scan: every stored value must authenticate under its own path.
        const report = await store.verify();
        if (report.damaged.length > 0) {
          outcome = outcome === "intact" || outcome === "missing" ? "detected" : outcome;
          detail ||= report.damaged[0] ?? "";
        }
      }
    } catch (e) {
      if (outcome !== "wrong") {
        outcome = "detected";
        detail = (e as Error).message;
      }
    }
    await store.close().catch(() => undefined);
  } catch (e) {
    if (e !== null) {
      outcome = "detected";
      detail = (e as Error).message;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify({ trial, outcome: outcome!, detail: detail.slice(0, 160) })}\n`);
}
