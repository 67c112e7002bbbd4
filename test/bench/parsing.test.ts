import { describe, expect, it } from "vitest";
import { parseArgs } from "../../bench/lib/args.ts";
import { parseSpeedMr } from "../../bench/lib/openssl.ts";
import { bestRound, formatSize, median, quantile } from "../../bench/lib/stats.ts";
import { LAYERS } from "../../bench/lib/types.ts";
import { parseWrkOutput, wrkScript } from "../../bench/lib/wrk.ts";

describe("openssl speed -mr parsing", () => {
  it("reads one size from a -bytes run, with ops/s from the +R line", () => {
    const out = [
      "+DT:AES-256-GCM:1:1048576",
      "+R:4362:AES-256-GCM:1.000000",
      "version: 3.0.19",
      "+H:1048576",
      "+F:25:AES-256-GCM:4573888512.00",
    ].join("\n");
    expect(parseSpeedMr(out)).toEqual([
      { algorithm: "AES-256-GCM", size: 1048576, bytesPerSec: 4573888512, opsPerSec: 4362 },
    ]);
  });

  it("reads every size of a default run, in order, and divides counts by the seconds taken", () => {
    const out = [
      "+DT:ChaCha20-Poly1305:3:16",
      "+R:1000:ChaCha20-Poly1305:2.000000",
      "+DT:ChaCha20-Poly1305:3:64",
      "+R:900:ChaCha20-Poly1305:3.000000",
      "+H:16:64",
      "+F:25:ChaCha20-Poly1305:8000.00:19200.00",
    ].join("\r\n");
    const figures = parseSpeedMr(out);
    expect(figures.map((f) => [f.size, f.bytesPerSec, f.opsPerSec])).toEqual([
      [16, 8000, 500],
      [64, 19200, 300],
    ]);
  });

  it("gives nothing for output without a +F line, and null ops/s without +R", () => {
    expect(parseSpeedMr("Doing aes-256-gcm for 1s on 64 size blocks\n")).toEqual([]);
    expect(parseSpeedMr("+H:64\n+F:25:X:640.00\n")).toEqual([
      { algorithm: "X", size: 64, bytesPerSec: 640, opsPerSec: null },
    ]);
  });
});

describe("wrk output", () => {
  it("parses the BENCHJSON line the script prints", () => {
    const stdout = [
      "Running 4s test @ http://127.0.0.1:1234/v1/transit/encrypt/bench",
      "  1 threads and 64 connections",
      'BENCHJSON {"requests":40000,"duration_us":4000000,"p50":1500,"p99":9000,"mean":1600.5,"errors":3}',
    ].join("\n");
    expect(parseWrkOutput(stdout)).toEqual({
      requests: 40000,
      seconds: 4,
      requestsPerSec: 10000,
      p50: 1500,
      p99: 9000,
      mean: 1600.5,
      errors: 3,
    });
  });

  it("fails loudly when wrk printed no result", () => {
    expect(() => parseWrkOutput("unable to connect to 127.0.0.1:1 Connection refused")).toThrow(/no result/);
  });

  it("escapes the body and headers into Lua string literals", () => {
    const lua = wrkScript("POST", '{"plaintext":"a\\"b"}', { "X-Vault-Token": "t" });
    expect(lua).toContain('wrk.method = "POST"');
    expect(lua).toContain('wrk.body = "{\\"plaintext\\":\\"a\\\\\\"b\\"}"');
    expect(lua).toContain('wrk.headers["X-Vault-Token"] = "t"');
  });
});

describe("command line", () => {
  it("runs every layer by default, in order", () => {
    expect(parseArgs([])).toEqual({ quick: false, layers: [...LAYERS], out: null, help: false });
  });

  it("selects and skips layers, in either flag form", () => {
    expect(parseArgs(["--quick", "--only", "engine,primitives"]).layers).toEqual(["primitives", "engine"]);
    expect(parseArgs(["--only=grpc"]).layers).toEqual(["grpc"]);
    expect(parseArgs(["--skip", "http,grpc"]).layers).toEqual([
      "primitives",
      "engine",
      "peer",
      "scaling",
      "vault",
    ]);
    expect(parseArgs(["--out", "/tmp/x"]).out).toBe("/tmp/x");
  });

  it("rejects unknown layers and options", () => {
    expect(() => parseArgs(["--only", "gpu"])).toThrow(/unknown layer "gpu"/);
    expect(() => parseArgs(["--fast"])).toThrow(/unknown option/);
    expect(() => parseArgs(["--only"])).toThrow(/needs a layer list/);
  });
});

describe("statistics", () => {
  it("interpolates quantiles between order statistics", () => {
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4, 5], 0.99)).toBeCloseTo(4.96);
    expect(median([7])).toBe(7);
    expect(Number.isNaN(quantile([], 0.5))).toBe(true);
  });

  it("reports the best round", () => {
    expect(bestRound([3, 9, 5])).toBe(9);
    expect(Number.isNaN(bestRound([]))).toBe(true);
  });

  it("names sizes as the issue does", () => {
    expect([64, 1024, 4096, 16384, 1048576, 100].map(formatSize)).toEqual([
      "64 B",
      "1 KiB",
      "4 KiB",
      "16 KiB",
      "1 MiB",
      "100 B",
    ]);
  });
});
