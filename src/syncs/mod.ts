/**
 * Every sync of the service, as one record (name -> sync) for `Engine.register(syncs)`. Add a
 * topic's file here with `...topic`: the export names become the syncs' names in the logs.
 */
import type { Sync } from "../engine/mod.ts";
import * as admin from "./admin.sync.ts";
import * as auth from "./auth.sync.ts";
import * as ping from "./ping.sync.ts";

/** The topics' syncs in one record; two syncs of one name would hide one, so that is refused. */
function merge(...topics: Array<Record<string, Sync>>): Record<string, Sync> {
  const all: Record<string, Sync> = {};
  for (const topic of topics) {
    for (const [name, sync] of Object.entries(topic)) {
      if (Object.hasOwn(all, name)) throw new Error(`Cannot gather syncs: two are named ${name}`);
      all[name] = sync;
    }
  }
  return all;
}

export const syncs: Record<string, Sync> = merge(ping, auth, admin);
