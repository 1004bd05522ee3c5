/**
 * The service's concepts, instrumented by one sync engine. `wireConcepts(db, settings)` builds
 * them and sets the live bindings below, which sync files import exactly as the course
 * template's syncs import `@concepts`:
 *
 *     import { Requesting, Sessioning } from "../concepts/mod.ts";
 *
 * A sync file reads these bindings only when its syncs are registered, so wire first, then
 * `Engine.register(syncs)`. Wiring again (a test with a fresh database) rebinds them; syncs
 * registered before keep the concepts they were registered with.
 */
import type { Db } from "mongodb";
import { type EngineOptions, SyncConcept } from "../engine/mod.ts";
import DeviceTrustConcept, { type DeviceTrustOptions } from "./DeviceTrust/DeviceTrustConcept.ts";
import PasswordAuthenticationConcept, {
  type PasswordAuthenticationOptions,
} from "./PasswordAuthentication/PasswordAuthenticationConcept.ts";
import RateLimitingConcept, {
  type RateLimitingOptions,
} from "./RateLimiting/RateLimitingConcept.ts";
import RequestingConcept, { type RequestingOptions } from "./Requesting/RequestingConcept.ts";
import SessioningConcept, { type SessioningOptions } from "./Sessioning/SessioningConcept.ts";

export let Engine: SyncConcept;
export let Requesting: RequestingConcept;
export let Sessioning: SessioningConcept;
export let PasswordAuthentication: PasswordAuthenticationConcept;
export let RateLimiting: RateLimitingConcept;
export let DeviceTrust: DeviceTrustConcept;

/** Options of each concept and of the engine. */
export interface ConceptSettings {
  engine?: EngineOptions;
  requesting?: RequestingOptions;
  sessioning?: SessioningOptions;
  passwordAuthentication?: PasswordAuthenticationOptions;
  rateLimiting?: RateLimitingOptions;
  deviceTrust?: DeviceTrustOptions;
}

/** The wired concepts and their engine. */
export interface Concepts {
  Engine: SyncConcept;
  Requesting: RequestingConcept;
  Sessioning: SessioningConcept;
  PasswordAuthentication: PasswordAuthenticationConcept;
  RateLimiting: RateLimitingConcept;
  DeviceTrust: DeviceTrustConcept;
}

/** Builds every concept on `db`, instruments them with a new engine, and binds the exports. */
export function wireConcepts(db: Db, settings: ConceptSettings = {}): Concepts {
  Engine = new SyncConcept(settings.engine);
  Requesting = Engine.instrumentConcept(new RequestingConcept(db, settings.requesting));
  Sessioning = Engine.instrumentConcept(new SessioningConcept(db, settings.sessioning));
  PasswordAuthentication = Engine.instrumentConcept(
    new PasswordAuthenticationConcept(db, settings.passwordAuthentication),
  );
  RateLimiting = Engine.instrumentConcept(new RateLimitingConcept(db, settings.rateLimiting));
  DeviceTrust = Engine.instrumentConcept(new DeviceTrustConcept(db, settings.deviceTrust));
  return { Engine, Requesting, Sessioning, PasswordAuthentication, RateLimiting, DeviceTrust };
}
