import { type RunContext, SkipLayer } from "../lib/context.ts";

export async function runEngine(_ctx: RunContext): Promise<void> {
  throw new SkipLayer("not written yet");
}
