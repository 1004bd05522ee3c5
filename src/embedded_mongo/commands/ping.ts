/** `ping`: answers ok. */
import type { Command } from "./context.ts";

export const ping: Command = { run: () => ({ ok: 1 }) };
