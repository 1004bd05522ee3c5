/**
 * Builds the service's concepts on one database and instruments them with one new sync engine:
 * the only place concepts are constructed for the service. Syncs reach them through the stand-ins
 * of src/syncs/concepts.ts, bound to this engine when it registers them.
 */
import type { Db } from "mongodb";
import AuditLogConcept, { type AuditLogOptions } from "../concepts/AuditLog/AuditLogConcept.ts";
import DeviceTrustConcept, {
  type DeviceTrustOptions,
} from "../concepts/DeviceTrust/DeviceTrustConcept.ts";
import PasswordAuthenticationConcept, {
  type PasswordAuthenticationOptions,
} from "../concepts/PasswordAuthentication/PasswordAuthenticationConcept.ts";
import RateLimitingConcept, {
  type RateLimitingOptions,
} from "../concepts/RateLimiting/RateLimitingConcept.ts";
import RequestingConcept, {
  type RequestingOptions,
} from "../concepts/Requesting/RequestingConcept.ts";
import SessioningConcept, {
  type SessioningOptions,
} from "../concepts/Sessioning/SessioningConcept.ts";
import RolesConcept, { type RolesOptions } from "../concepts/Roles/RolesConcept.ts";
import { type EngineOptions, SyncConcept } from "../engine/mod.ts";

/** Options of each concept and of the engine. */
export interface ConceptSettings {
  engine?: EngineOptions;
  requesting?: RequestingOptions;
  sessioning?: SessioningOptions;
  passwordAuthentication?: PasswordAuthenticationOptions;
  rateLimiting?: RateLimitingOptions;
  deviceTrust?: DeviceTrustOptions;
  roles?: RolesOptions;
  auditLog?: AuditLogOptions;
}

/** The instrumented concepts and their engine. */
export interface Concepts {
  Engine: SyncConcept;
  Requesting: RequestingConcept;
  Sessioning: SessioningConcept;
  PasswordAuthentication: PasswordAuthenticationConcept;
  RateLimiting: RateLimitingConcept;
  DeviceTrust: DeviceTrustConcept;
  Roles: RolesConcept;
  AuditLog: AuditLogConcept;
}

/** Every concept on `db`, instrumented by a new engine. */
export function createConcepts(db: Db, settings: ConceptSettings = {}): Concepts {
  const Engine = new SyncConcept(settings.engine);
  return {
    Engine,
    Requesting: Engine.instrumentConcept(new RequestingConcept(db, settings.requesting)),
    Sessioning: Engine.instrumentConcept(new SessioningConcept(db, settings.sessioning)),
    PasswordAuthentication: Engine.instrumentConcept(
      new PasswordAuthenticationConcept(db, settings.passwordAuthentication),
    ),
    RateLimiting: Engine.instrumentConcept(new RateLimitingConcept(db, settings.rateLimiting)),
    DeviceTrust: Engine.instrumentConcept(new DeviceTrustConcept(db, settings.deviceTrust)),
    Roles: Engine.instrumentConcept(new RolesConcept(db, settings.roles)),
    AuditLog: Engine.instrumentConcept(new AuditLogConcept(db, settings.auditLog)),
  };
}
