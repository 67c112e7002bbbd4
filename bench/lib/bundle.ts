import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";

/**
 * Loads one of the project's modules as production runs it. Importing src/
 * through tsx would measure tsx's output, which keeps function names with a
 * `__name(fn, "…")` call wherever a closure is created (5% of an encrypt at
 * 64 B in a profile). esbuild bundles the module and what it imports from
 * src/ into bench/results/tmp/bundles/ without that, packages left external,
 * as `npm run build` (tsc) emits it: no minification, same ES2022 code.
 */
export async function loadProjectModule<T>(root: string, rel: string, tmp: string): Promise<T | null> {
  await loadReflectPolyfill(root, tmp);
  const outfile = await bundleProjectFile(root, rel, tmp);
  if (outfile === null) return null;
  // A fresh URL per build so a rebuilt bundle is imported anew in the same process.
  return (await import(`${pathToFileURL(outfile).href}?t=${Date.now()}`)) as T;
}

/** Bundles one of the project's entry files as above; returns the bundle's path, or null when it is not there. */
export async function bundleProjectFile(root: string, rel: string, tmp: string): Promise<string | null> {
  const entry = path.isAbsolute(rel) ? rel : path.join(root, rel);
  if (!existsSync(entry)) return null;
  const outDir = path.join(tmp, "bundles");
  mkdirSync(outDir, { recursive: true });
  const outfile = path.join(outDir, `${path.relative(root, entry).replace(/[/\\.]+/g, "_")}.mjs`);
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "es2022",
    packages: "external",
    keepNames: false,
    logLevel: "silent",
    sourcemap: false,
  });
  return outfile;
}

let polyfilled = false;

/**
 * @peculiar/x509 (certificates in the engine, auto-mTLS in the plugin and its
 * client) throws at load time without a Reflect metadata polyfill, which the
 * project's modules import first. In a bundle with external packages the
 * package import is hoisted above the polyfill's code, so the polyfill is
 * loaded on its own, once, before any bundle.
 */
async function loadReflectPolyfill(root: string, tmp: string): Promise<void> {
  if (polyfilled) return;
  polyfilled = true;
  for (const rel of ["src/util/reflect-polyfill.ts"]) {
    const file = await bundleProjectFile(root, rel, tmp);
    if (file !== null) await import(pathToFileURL(file).href);
  }
}
