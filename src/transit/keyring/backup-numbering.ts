import { isKeyType, KEY_TYPES, type KeyType, VAULT_KEY_TYPE_ID } from "./key-types.ts";

/**
 * The numbers of keysutil's KeyType enum, which a backup's policy carries
 * as `type`, in the two engines whose backups this engine reads and
 * writes. Both number by iota (sdk/helper/keysutil/policy.go) and agree up
 * to rsa-3072 (9); then Vault has managed_key 10, hmac 11 and its later
 * types, while OpenBao, which dropped managed keys, has hmac 10 and
 * xchacha20-poly1305 11. So 10 and 11 mean different types by engine, and
 * a blob does not say which engine wrote it: readings are chosen by the
 * blob's content (see resolveKeyType).
 *
 * Adding a key type is one line in KEY_TYPE_NUMBERS: its Vault and/or
 * OpenBao number, or, for a type neither engine has, an `own` number far
 * from both enums (such a backup restores only into this engine). A line
 * for a type this build does not know is ignored. A key type without a
 * line counts as Vault's with key-types.ts's VAULT_KEY_TYPE_ID number.
 */

export type Engine = "vault" | "openbao";

interface Numbering {
  vault?: number;
  openbao?: number;
  own?: number;
}

const KEY_TYPE_NUMBERS: Readonly<Record<string, Numbering>> = {
  "aes256-gcm96": { vault: 0, openbao: 0 },
  "ecdsa-p256": { vault: 1, openbao: 1 },
  ed25519: { vault: 2, openbao: 2 },
  "rsa-2048": { vault: 3, openbao: 3 },
  "rsa-4096": { vault: 4, openbao: 4 },
  "chacha20-poly1305": { vault: 5, openbao: 5 },
  "ecdsa-p384": { vault: 6, openbao: 6 },
  "ecdsa-p521": { vault: 7, openbao: 7 },
  "aes128-gcm96": { vault: 8, openbao: 8 },
  "rsa-3072": { vault: 9, openbao: 9 },
  hmac: { vault: 11, openbao: 10 },
  "xchacha20-poly1305": { openbao: 11 },
  // RFC 8452 AES-256-GCM-SIV: in neither engine; far from both enums, so its backups restore only here.
  "aes256-gcm-siv": { own: 1000 },
};

/** Vault's numbers for types no build of this engine holds, named in the refusal. */
const VAULT_ONLY_NAMES: Readonly<Record<number, string>> = {
  10: "managed_key",
};

const ENGINE_NAME: Record<Engine, string> = { vault: "Vault", openbao: "OpenBao" };

export class KeyTypeNumberError extends Error {}

/** The table's line for a type, or the Vault number key-types.ts gives a type without one. */
function numberingOf(type: string, table: Readonly<Record<string, Numbering>>): Numbering | undefined {
  const line = table[type];
  if (line !== undefined || table !== KEY_TYPE_NUMBERS || !isKeyType(type)) return line;
  const vault = VAULT_KEY_TYPE_ID[type];
  return vault === undefined ? undefined : { vault };
}

/**
 * The engine whose numbering and field set a backup of `type` is written in:
 * the host's when its keysutil has the type; otherwise the engine that has
 * it (an OpenBao-only type backed up on a Vault host is written as OpenBao
 * writes it, so that this engine, and OpenBao, restore it; Vault's built-in
 * transit could not hold it under any number).
 */
export function backupEngineFor(type: KeyType, host: Engine, table = KEY_TYPE_NUMBERS): Engine {
  const n = numberingOf(type, table);
  if (n === undefined || n[host] !== undefined || n.own !== undefined) return host;
  const other: Engine = host === "vault" ? "openbao" : "vault";
  return n[other] !== undefined ? other : host;
}

/** The number `engine`'s keysutil gives `type` (or this engine's own number for a type neither has). */
export function keyTypeNumber(type: KeyType, engine: Engine, table = KEY_TYPE_NUMBERS): number {
  const n = numberingOf(type, table);
  const number = n?.[engine] ?? n?.own;
  if (number === undefined) {
    throw new KeyTypeNumberError(`key type ${type} has no number in ${ENGINE_NAME[engine]}'s keysutil`);
  }
  return number;
}

/** One way to read a number: the type, and the engine whose numbering gives it (null: every engine's). */
export interface Reading {
  type: KeyType;
  engine: Engine | null;
}

/** The readings of a number that this build can hold, one per distinct type. */
export function readingsOf(number: number, table = KEY_TYPE_NUMBERS): Reading[] {
  const out: Reading[] = [];
  const types =
    table === KEY_TYPE_NUMBERS ? [...new Set([...Object.keys(table), ...KEY_TYPES])] : Object.keys(table);
  for (const type of types) {
    const n = numberingOf(type, table);
    if (!isKeyType(type) || n === undefined) continue;
    if (n.own === number || (n.vault === number && n.openbao === number)) out.push({ type, engine: null });
    else if (n.vault === number) out.push({ type, engine: "vault" });
    else if (n.openbao === number) out.push({ type, engine: "openbao" });
  }
  return out;
}

/** Why a number has no reading here, naming the type the engines give it where they give one. */
export function unsupportedNumber(number: number, writer: Engine | null, table = KEY_TYPE_NUMBERS): string {
  const names: string[] = [];
  for (const engine of writer === null ? (["vault", "openbao"] as const) : [writer]) {
    const known = Object.entries(table).find(([, n]) => n[engine] === number)?.[0];
    const name = known ?? (engine === "vault" ? VAULT_ONLY_NAMES[number] : undefined);
    if (name !== undefined) names.push(`${name} in ${ENGINE_NAME[engine]}'s numbering`);
  }
  return names.length === 0
    ? `unsupported key type ${number}`
    : `unsupported key type ${number} (${names.join(", ")})`;
}

/**
 * The reading of a blob's `type`. `writer` is the engine whose engine-only
 * fields the blob carries (null when it carries none): readings of the
 * other engine's numbering are dropped. Of what remains, the only reading,
 * else the only one whose key material and settings fit (`fits` answers
 * null, or why not). A blob that fits several readings with nothing to
 * tell them apart is refused, never guessed.
 */
export function resolveKeyType(
  number: number,
  fits: (type: KeyType) => string | null,
  writer: Engine | null,
  table = KEY_TYPE_NUMBERS,
): KeyType {
  const readings = readingsOf(number, table).filter(
    (r) => writer === null || r.engine === null || r.engine === writer,
  );
  const [first] = readings;
  if (first === undefined) throw new KeyTypeNumberError(unsupportedNumber(number, writer, table));
  if (readings.length === 1) return first.type;
  const verdicts = readings.map((r) => ({ ...r, why: fits(r.type) }));
  const fitting = verdicts.filter((v) => v.why === null);
  const [only] = fitting;
  if (fitting.length === 1 && only !== undefined) return only.type;
  if (fitting.length === 0) {
    const whys = verdicts.map((v) => `as ${v.type} in ${describe(v)}: ${v.why}`);
    throw new KeyTypeNumberError(`key type ${number} fits no reading (${whys.join("; ")})`);
  }
  throw new KeyTypeNumberError(
    `ambiguous backup: key type ${number} is ${fitting.map((v) => `${v.type} in ${describe(v)}`).join(" and ")}, the key material fits both, and no engine-only field says which engine wrote it`,
  );
}

function describe(r: Reading): string {
  return r.engine === null ? "every engine's numbering" : `${ENGINE_NAME[r.engine]}'s numbering`;
}
