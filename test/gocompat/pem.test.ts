/**
 * src/gocompat/pem.ts against encoding/pem.Decode's documented behaviour
 * and its own test cases (encoding/pem/pem_test.go: junk before a block is
 * skipped, headers are taken, an END line of another type or with trailing
 * text makes the block invalid and the search goes on, rest is what follows).
 */
import { describe, expect, it } from "vitest";
import { goPemDecode, goTrimSpace } from "../../src/gocompat/pem.ts";

const body = Buffer.from("hello pem").toString("base64");

describe("pem.Decode", () => {
  it("a block after junk, its headers, and the rest", () => {
    const text = `junk\n-----BEGIN TEST-----\nProc-Type: 4,ENCRYPTED\n\n${body}\n-----END TEST-----\nafter`;
    const b = goPemDecode(text);
    expect(b?.type).toBe("TEST");
    expect(b?.headers).toEqual({ "Proc-Type": "4,ENCRYPTED" });
    expect(b?.bytes.toString()).toBe("hello pem");
    expect(b?.rest).toBe("after");
  });

  it("malformed blocks are skipped; none at all is null", () => {
    const wrongEnd = `-----BEGIN A-----\n${body}\n-----END B-----\n`;
    const good = `-----BEGIN C-----\n${body}\n-----END C-----\n`;
    expect(goPemDecode(wrongEnd + good)?.type).toBe("C");
    expect(goPemDecode(`-----BEGIN A-----\n${body}\n-----END A----- x\n`)).toBeNull();
    expect(goPemDecode(`-----BEGIN A-----\n${body.slice(1)}\n-----END A-----\n`)).toBeNull();
    expect(goPemDecode("no pem here")).toBeNull();
  });

  it("CRLF line ends and trailing blanks on lines are accepted", () => {
    const b = goPemDecode(`-----BEGIN X-----  \r\n${body}\r\n-----END X-----\r\n`);
    expect(b?.bytes.toString()).toBe("hello pem");
  });

  it("strings.TrimSpace trims Unicode white space", () => {
    expect(goTrimSpace("\u00a0\t x \u2029\n")).toBe("x");
  });
});
