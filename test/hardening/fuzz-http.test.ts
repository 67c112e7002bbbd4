/**
 * Fuzzing the dev host's HTTP layer (src/host): random methods, paths (known
 * engine paths, sys paths, percent-encoding junk, traversal, unicode, long
 * segments), query strings, headers (tokens, content types, wrapping) and
 * bodies (JSON of the wrong types, huge and empty strings, invalid base64,
 * unicode, deep nesting, non-JSON, bodies past the size limit), sent over
 * real HTTP to a host with a real lmdb store. The mounted engine is the real
 * transit engine, run in process (./helpers/inprocess-transit.ts); the
 * variant through the plugin process lives in fuzz-http-plugin.test.ts.
 *
 * Every answer must be: below 500 (except Vault's own 500s for callers' mistakes,
 * with their texts, and 500 from the mount whose plugin is
 * deliberately absent), within the timeout, and well formed: 204 and HEAD
 * without a body; otherwise JSON, {"errors": [strings]} for a failure, Vault's
 * response envelope (or a batch with per-item errors) for a mount's answer.
 * Node's own HTTP parser may refuse a request before the host sees it
 * (400/431 with an empty body, connection closed), as Go's server does.
 *
 *   FUZZ_HTTP_RUNS=50000 npx vitest run test/hardening/fuzz-http.test.ts
 */
import { defineHttpFuzz } from "./helpers/http-fuzz.ts";
import { inProcessTransit } from "./helpers/inprocess-transit.ts";

defineHttpFuzz({
  name: "http-inprocess",
  title: "fuzzing the dev host's HTTP layer (in-process transit engine)",
  runs: Number(process.env["FUZZ_HTTP_RUNS"] ?? 4000),
  launcher: (absent) => inProcessTransit(absent),
});
