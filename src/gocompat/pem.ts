/**
 * Go's encoding/pem Decode (encoding/pem/pem.go), step for step: what Vault's certificate paths
 * accept as PEM. It finds the first well-formed block anywhere in the text
 * (junk before it is skipped), takes "Key: value" header lines, needs the
 * END line to name the same type and end in whitespace only, and returns
 * the text after the block's line. A malformed block is skipped and the
 * search goes on; no block at all gives null.
 */

export interface GoPemBlock {
  type: string;
  headers: Record<string, string>;
  bytes: Buffer;
  rest: string;
}

const PEM_START = "\n-----BEGIN ";
const PEM_END = "\n-----END ";
const PEM_END_OF_LINE = "-----";

function trimRightSpaceTab(s: string): string {
  let end = s.length;
  while (end > 0 && (s[end - 1] === " " || s[end - 1] === "\t")) end--;
  return s.slice(0, end);
}

/** Go's getLine: the line without its \n or \r\n and trailing blanks, and what follows. */
function getLine(data: string): [string, string] {
  let i = data.indexOf("\n");
  let j: number;
  if (i < 0) {
    i = data.length;
    j = i;
  } else {
    j = i + 1;
    if (i > 0 && data[i - 1] === "\r") i--;
  }
  return [trimRightSpaceTab(data.slice(0, i)), data.slice(j)];
}

/** base64.StdEncoding.Decode: \r and \n ignored, padding required. */
function goStdBase64(s: string): Buffer | null {
  const clean = s.replace(/[\r\n]/g, "");
  if (clean.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(clean)) return null;
  return Buffer.from(clean, "base64");
}

/** strings.TrimSpace: Unicode white space off both ends. */
export function goTrimSpace(s: string): string {
  return s.replace(
    /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g,
    "",
  );
}

export function goPemDecode(data: string): GoPemBlock | null {
  let rest = data;
  for (;;) {
    if (rest.startsWith(PEM_START.slice(1))) {
      rest = rest.slice(PEM_START.length - 1);
    } else {
      const at = rest.indexOf(PEM_START);
      if (at < 0) return null;
      rest = rest.slice(at + PEM_START.length);
    }
    let typeLine: string;
    [typeLine, rest] = getLine(rest);
    if (!typeLine.endsWith(PEM_END_OF_LINE)) continue;
    typeLine = typeLine.slice(0, typeLine.length - PEM_END_OF_LINE.length);

    const headers: Record<string, string> = {};
    let headerCount = 0;
    for (;;) {
      if (rest.length === 0) return null;
      const [line, next] = getLine(rest);
      const colon = line.indexOf(":");
      if (colon < 0) break;
      headers[goTrimSpace(line.slice(0, colon))] = goTrimSpace(line.slice(colon + 1));
      headerCount++;
      rest = next;
    }

    let endIndex: number;
    let endTrailerIndex: number;
    if (headerCount === 0 && rest.startsWith(PEM_END.slice(1))) {
      endIndex = 0;
      endTrailerIndex = PEM_END.length - 1;
    } else {
      endIndex = rest.indexOf(PEM_END);
      endTrailerIndex = endIndex + PEM_END.length;
    }
    if (endIndex < 0) continue;

    let endTrailer = rest.slice(endTrailerIndex);
    const endTrailerLen = typeLine.length + PEM_END_OF_LINE.length;
    if (endTrailer.length < endTrailerLen) continue;
    const restOfEndLine = endTrailer.slice(endTrailerLen);
    endTrailer = endTrailer.slice(0, endTrailerLen);
    if (!endTrailer.startsWith(typeLine) || !endTrailer.endsWith(PEM_END_OF_LINE)) continue;
    if (getLine(restOfEndLine)[0].length !== 0) continue;

    const bytes = goStdBase64(rest.slice(0, endIndex).replace(/[ \t]/g, ""));
    if (bytes === null) continue;
    const after = getLine(rest.slice(endIndex + PEM_END.length - 1))[1];
    return { type: typeLine, headers, bytes, rest: after };
  }
}
