import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup/capture-output.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // console.* in tests writes to the worker's own stdout/stderr, where test/setup/capture-output.ts keeps it for the secrets scan.
    disableConsoleIntercept: true,
  },
});
