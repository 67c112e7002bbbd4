import { children, contents, DerError, readTlv, TAG, type Tlv } from "../crypto/der.ts";

/**
 * Go's parseSANExtension (crypto/x509/parser.go): the subject alternative
 * names' framing, IA5 names, IP address lengths and, for URIs, what
 * url.Parse (net/url/url.go) refuses, approximated: control characters, a
 * missing scheme, a colon in the first path segment, host characters, then
 * domainToReverseLabels on the host (port included, as Go does). Failures
 * are DerErrors carrying Go's text.
 */

export function checkSanExtension(san: Buffer): void {
  let seq: Tlv;
  try {
    seq = readTlv(san, 0);
    if (seq.tag !== TAG.SEQUENCE) throw new DerError("");
  } catch {
    throw new DerError("x509: invalid subject alternative names");
  }
  let names: Tlv[];
  try {
    names = children(san, seq);
  } catch {
    throw new DerError("x509: invalid subject alternative name");
  }
  const ia5 = (t: Tlv): boolean => contents(san, t).every((b) => b < 0x80);
  for (const n of names) {
    // Go's tag^0x80: context-specific, primitive, tags 1, 2, 6, 7; anything else is skipped.
    switch (n.tag ^ 0x80) {
      case 1:
        if (!ia5(n)) throw new DerError("x509: SAN rfc822Name is malformed");
        break;
      case 2:
        if (!ia5(n)) throw new DerError("x509: SAN dNSName is malformed");
        break;
      case 6:
        if (!ia5(n)) throw new DerError("x509: SAN uniformResourceIdentifier is malformed");
        checkUri(contents(san, n).toString("latin1"));
        break;
      case 7: {
        const len = n.end - n.contentStart;
        if (len !== 4 && len !== 16) throw new DerError(`x509: cannot parse IP address of length ${len}`);
        break;
      }
    }
  }
}

const QUOTE_ESCAPES: Record<string, string> = {
  "\x07": "\\a",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\v": "\\v",
  '"': '\\"',
  "\\": "\\\\",
};

/** Go's %q of an ASCII string (strconv.Quote). */
export function quoteAscii(s: string): string {
  let out = "";
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    out += QUOTE_ESCAPES[ch] ?? (c < 0x20 || c === 0x7f ? `\\x${c.toString(16).padStart(2, "0")}` : ch);
  }
  return `"${out}"`;
}

function checkUri(uri: string): void {
  const fail = (why: string): never => {
    throw new DerError(`x509: cannot parse URI ${quoteAscii(uri)}: ${why}`);
  };
  if ([...uri].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
    fail(`parse ${quoteAscii(uri)}: net/url: invalid control character in URL`);
  }
  let rest = uri.split("#")[0] ?? "";
  if (rest.startsWith(":")) fail(`parse ${quoteAscii(uri)}: missing protocol scheme`);
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(rest);
  if (scheme !== null) rest = rest.slice(scheme[0].length);
  rest = rest.split("?")[0] ?? "";
  if (scheme === null && !rest.startsWith("/") && (rest.split("/")[0] ?? "").includes(":")) {
    fail(`parse ${quoteAscii(uri)}: first path segment in URL cannot contain colon`);
  }
  if (!rest.startsWith("//")) return;
  const authority = rest.slice(2).split("/")[0] ?? "";
  const host = authority.slice(authority.lastIndexOf("@") + 1);
  const bad = /[^A-Za-z0-9\-_.~!$&'()*+,;=:[\]<>"%]/.exec(host);
  if (bad !== null) fail(`parse ${quoteAscii(uri)}: invalid character ${quoteAscii(bad[0])} in host name`);
  if (host.length === 0) return;
  const labels = host.split(".");
  if (labels.some((l) => l.length === 0) || /[^\x21-\x7e]/.test(host)) fail("invalid domain");
}
