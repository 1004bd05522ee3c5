/**
 * The service's entry (`deno task start`): reads `.env` when there is one (the environment wins
 * over it), loads and checks the configuration, starts the service through the composition root
 * (src/app/service.ts), and stops it on SIGINT or SIGTERM.
 */
import { parse as parseDotenv } from "dotenv";
import { startService } from "./app/service.ts";
import { type Config, ConfigError, loadConfig } from "./config.ts";
import { jsonLineSink } from "./utils/log.ts";

/** The variables of `.env` in the working folder, if it exists (silently nothing if not). */
function dotenv(path = ".env"): Record<string, string> {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return {};
    throw e;
  }
  return parseDotenv(text);
}

if (import.meta.main) {
  let config: Config;
  try {
    config = loadConfig({ ...dotenv(), ...Deno.env.toObject() });
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      Deno.exit(2);
    }
    throw e;
  }
  const service = await startService(config);
  jsonLineSink({
    time: new Date().toISOString(),
    level: "info",
    msg: "listening",
    url: service.url,
    store: service.store,
    ...(service.store === "embedded" ? { dataDir: config.dataDir } : {}),
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await service.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}
