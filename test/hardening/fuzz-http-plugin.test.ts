/**
 * The dev host's HTTP fuzz (helpers/http-fuzz.ts) through the real plugin
 * process: requests cross src/pluginhost, go-plugin's gRPC over mTLS and the
 * brokered Storage to the engine in src/plugin. Fewer cases than the
 * in-process variant (each costs a gRPC round trip or two):
 *
 *   FUZZ_HTTP_PLUGIN_RUNS=20000 npx vitest run test/hardening/fuzz-http-plugin.test.ts
 *
 * The mount "absent/" is made to fail its set-up in the plugin (the launcher
 * below refuses it), the one place where a 500 is expected besides Vault's own
 * 500s for callers' mistakes (plain Go errors there, their texts kept).
 */

import { createPluginLauncher } from "../../src/host/plugin.ts";
import type { MountOptions, PluginInstance } from "../../src/protocol/mount-backend.ts";
import { defineHttpFuzz } from "./helpers/http-fuzz.ts";

defineHttpFuzz({
  name: "http-plugin-process",
  title: "fuzzing the dev host's HTTP layer (real plugin process)",
  runs: Number(process.env["FUZZ_HTTP_PLUGIN_RUNS"] ?? 2000),
  launcher: (absent, config, logger) => {
    const real = createPluginLauncher(config, logger);
    return async (): Promise<PluginInstance> => {
      const inst = await real();
      return {
        get pid() {
          return inst.pid;
        },
        get exited() {
          return inst.exited;
        },
        get dead() {
          return inst.dead;
        },
        mount: (opts: MountOptions) =>
          absent.includes(opts.mountPoint)
            ? Promise.reject(new Error(`no plugin for ${opts.mountPoint} (deliberate)`))
            : inst.mount(opts),
        shutdown: () => inst.shutdown(),
      };
    };
  },
});
