/**
 * How much the engine tells: `Logging.OFF` (failures only), `TRACE` (every action with its
 * input and output, every sync that fires), `VERBOSE` (also each match, `where` and frame
 * count). Lines go through the shared structured logger (src/utils/log.ts), which redacts
 * secrets. Failures of syncs are logged at every level.
 */
export { type LogEntry, Logger, type LogLevel, memoryLogger, redactSecrets } from "../utils/log.ts";

export enum Logging {
  OFF = 0,
  TRACE = 1,
  VERBOSE = 2,
}
