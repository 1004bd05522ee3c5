/**
 * Every sync of the service, as one record (name -> sync) for `Engine.register(syncs)`. Add a
 * topic's file here with `...topic`: the export names become the syncs' names in the logs.
 */
import type { Sync } from "../engine/mod.ts";
import * as admin from "./admin.sync.ts";
import * as auth from "./auth.sync.ts";
import * as ping from "./ping.sync.ts";

export const syncs: Record<string, Sync> = { ...ping, ...auth, ...admin };
