/**
 * Scans captured test output for the canary secrets of test/helpers/canaries.ts,
 * as raw text, hex (either case) and base64 at each of the three alignments a
 * secret can take inside a longer base64 string. Exits 1 on a find.
 *
 *   node --import tsx scripts/scan-secrets.ts <file-or-directory>...
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ALL_CANARIES } from "../test/helpers/canaries.ts";

export function encodings(secret: Uint8Array): string[] {
  const buf = Buffer.from(secret);
  const out = new Set<string>([buf.toString("hex"), buf.toString("hex").toUpperCase()]);
  if (buf.every((b) => b >= 0x20 && b < 0x7f)) out.add(buf.toString("latin1"));
  for (let shift = 0; shift < 3; shift++) {
    // Base64 of the secret preceded by `shift` bytes: drop the characters those bytes touch.
    const enc = Buffer.concat([Buffer.alloc(shift), buf]).toString("base64");
    const skip = Math.ceil((shift * 4) / 3);
    const core = enc.slice(skip, enc.length - 4);
    if (core.length >= 16) {
      out.add(core);
      out.add(core.replace(/\+/g, "-").replace(/\//g, "_"));
    }
  }
  return [...out];
}

function files(paths: string[]): string[] {
  return paths.flatMap((p) =>
    statSync(p).isDirectory() ? files(readdirSync(p).map((f) => join(p, f))) : [p],
  );
}

export function scan(texts: Map<string, string>): string[] {
  const needles = ALL_CANARIES.flatMap(encodings);
  const finds: string[] = [];
  for (const [name, text] of texts) {
    for (const needle of needles) {
      const at = text.indexOf(needle);
      if (at !== -1) finds.push(`${name}: canary found at offset ${at} (${needle.slice(0, 12)}...)`);
    }
  }
  return finds;
}

/** Below this many captured bytes the scan says it saw too little to mean much. */
const MIN_EXPECTED_BYTES = 16 * 1024;

if (import.meta.url === `file://${process.argv[1]}`) {
  const list = files(process.argv.slice(2));
  const texts = new Map(list.map((f) => [f, readFileSync(f, "latin1")]));
  const finds = scan(texts);
  const bytes = [...texts.values()].reduce((n, t) => n + t.length, 0);
  if (finds.length > 0) {
    console.error(finds.join("\n"));
    console.error(`secrets scan: ${finds.length} leak(s) in ${list.length} file(s)`);
    process.exit(1);
  }
  console.log(`secrets scan: 0 leaks in ${list.length} file(s), ${bytes} bytes of test output`);
  if (bytes < MIN_EXPECTED_BYTES) {
    // The suite logs far more than this: most of its output did not reach the scanned files.
    console.warn(
      `secrets scan: WARNING: only ${bytes} bytes were captured; output that vitest intercepts (console.*, its reporter) is not in them, so the scan covers little (see docs/hardening.md, findings)`,
    );
  }
}
