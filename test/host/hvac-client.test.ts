/**
 * A real Vault client against the dev host and the real plugin process:
 * Debian's python3-hvac drives test/host/hvac-client/test_transit_hvac.py
 * (our own pytest file, see its header) on a fresh transit mount. This file
 * only starts the host, mounts, runs pytest and checks its exit status.
 *
 * Without python3-hvac or pytest the suite is skipped with the reason; .ci/run
 * installs both and sets HVAC_REQUIRED=1, where a missing one is a failure.
 */
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  killAllHosts,
  PLUGIN_READY,
  REPO_ROOT,
  type RunningHost,
  startHost,
  tempDataDir,
} from "./helpers/process-host.ts";

const PYTEST_FILE = join(REPO_ROOT, "test/host/hvac-client/test_transit_hvac.py");

/**
 * The first interpreter that imports both hvac and pytest. PATH's python3 may
 * be a separate install (pyenv, venv) without Debian's dist-packages, so
 * Debian's own /usr/bin/python3 is tried after it; HVAC_PYTHON, when set, is the
 * only one tried.
 */
function findPython(): string | undefined {
  const chosen = process.env["HVAC_PYTHON"];
  const candidates = chosen !== undefined && chosen !== "" ? [chosen] : ["python3", "/usr/bin/python3"];
  return candidates.find(
    (py) => spawnSync(py, ["-c", "import hvac, pytest"], { stdio: "ignore", timeout: 30_000 }).status === 0,
  );
}

const python = findPython();
const required = process.env["HVAC_REQUIRED"] === "1";
const skipReason = !PLUGIN_READY
  ? "src/plugin or src/pluginhost is missing"
  : python === undefined
    ? "no python3 imports both hvac and pytest; apt-get install python3-hvac python3-pytest (or set HVAC_PYTHON)"
    : "";
if (skipReason !== "") console.warn(`SKIPPED hvac client test: ${skipReason}`);

if (required) {
  describe("hvac client prerequisites (HVAC_REQUIRED=1)", () => {
    it("a python3 with hvac and pytest is present", () => {
      expect(python, "python3-hvac and python3-pytest must be installed").toBeDefined();
    });
  });
}

function runPytest(py: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    // -p no:cacheprovider: no .pytest_cache written into the tree.
    const proc = spawn(py, ["-m", "pytest", "-q", "-p", "no:cacheprovider", PYTEST_FILE], {
      cwd: REPO_ROOT,
      // PYTHONDONTWRITEBYTECODE: no __pycache__ beside the test file either.
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    proc.stdout.setEncoding("utf8").on("data", (c: string) => {
      out += c;
    });
    proc.stderr.setEncoding("utf8").on("data", (c: string) => {
      out += c;
    });
    proc.on("error", reject);
    proc.on("exit", (code) => resolve({ code, out }));
  });
}

describe.skipIf(skipReason !== "")("hvac (python3-hvac) transit client suite, through the dev host", () => {
  let host: RunningHost;
  let data: ReturnType<typeof tempDataDir>;
  const mount = `transit-hvac-${Math.random().toString(36).slice(2, 10)}`;

  beforeAll(async () => {
    data = tempDataDir("devhost-hvac-");
    host = await startHost({ dataDir: data.dir });
    const res = await fetch(`${host.url}/v1/sys/mounts/${mount}`, {
      method: "POST",
      headers: { "X-Vault-Token": host.token, "Content-Type": "application/json" },
      body: JSON.stringify({ type: "transit" }),
    });
    expect(res.status).toBe(204);
  }, 90_000);

  afterAll(async () => {
    await host?.stop();
    killAllHosts();
    data?.cleanup();
  });

  it("pytest passes every case", async () => {
    const { code, out } = await runPytest(python as string, {
      VAULT_ADDR: host.url,
      VAULT_TOKEN: host.token,
      TRANSIT_MOUNT: mount,
    });
    const lines = out.trim().split("\n");
    const summary = lines[lines.length - 1] ?? "";
    console.log(`hvac client suite: ${summary}`);
    expect(code, out).toBe(0);
    expect(summary).toMatch(/^\d+ passed/);
    expect(summary).not.toMatch(/failed|error|skipped/);
  }, 300_000);
});
