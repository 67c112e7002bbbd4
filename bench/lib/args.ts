import { LAYERS, type LayerId } from "./types.ts";

export interface Args {
  quick: boolean;
  layers: LayerId[];
  /** Where results go; null = the default for the mode. */
  out: string | null;
  help: boolean;
}

export const USAGE = `npm run bench [-- options]

  --quick              a tiny run for CI (under a minute); numbers are not asserted
  --only LAYER[,LAYER] run only these layers (${LAYERS.join(", ")})
  --skip LAYER[,LAYER] run all layers but these
  --out DIR            write results to DIR (default: bench/results for a full run of every
                       layer, bench/results/tmp/<mode> otherwise)
  --help               this text`;

function layerList(value: string | undefined, flag: string): LayerId[] {
  if (value === undefined || value === "") throw new Error(`${flag} needs a layer list`);
  return value.split(",").map((raw) => {
    const name = raw.trim();
    if (!(LAYERS as readonly string[]).includes(name)) {
      throw new Error(`unknown layer "${name}" (layers: ${LAYERS.join(", ")})`);
    }
    return name as LayerId;
  });
}

/** Parses the command line; throws with a message for anything it does not know. */
export function parseArgs(argv: readonly string[]): Args {
  let quick = false;
  let only: LayerId[] | null = null;
  let skip: LayerId[] = [];
  let out: string | null = null;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const eq = arg.indexOf("=");
    const flag = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith("--") && eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case "--quick":
        quick = true;
        break;
      case "--only":
        only = [...(only ?? []), ...layerList(value(), "--only")];
        break;
      case "--skip":
        skip = [...skip, ...layerList(value(), "--skip")];
        break;
      case "--out": {
        const v = value();
        if (v === undefined || v === "") throw new Error("--out needs a directory");
        out = v;
        break;
      }
      case "--help":
      case "-h":
        help = true;
        break;
      default:
        throw new Error(`unknown option "${arg}"`);
    }
  }
  const chosen = only ?? [...LAYERS];
  const layers = LAYERS.filter((l) => chosen.includes(l) && !skip.includes(l));
  return { quick, layers, out, help };
}
