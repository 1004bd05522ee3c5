/** `buildInfo`: the version we present, MongoDB 8.0.0. */
import type { Command } from "./context.ts";
import { MAX_WIRE_VERSION } from "./hello.ts";

/** The MongoDB version we present. */
export const VERSION = "8.0.0";

export const buildInfo: Command = {
  run: () => ({
    version: VERSION,
    versionArray: [8, 0, 0, 0],
    gitVersion: "embedded",
    bits: 64,
    debug: false,
    maxBsonObjectSize: 16777216,
    storageEngines: ["embedded"],
    modules: [],
    javascriptEngine: "none",
    openssl: { running: "none" },
    maxWireVersion: MAX_WIRE_VERSION,
    ok: 1,
  }),
};
