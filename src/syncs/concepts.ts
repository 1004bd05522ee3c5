/**
 * The concepts as syncs name them: the course template's `@concepts`. Each export is a stand-in
 * (`bound`, src/engine/bindings.ts) that resolves to the concept of that name in the engine that
 * registers or runs the sync, so sync files import them exactly as template syncs do:
 *
 *     import { Requesting, Sessioning } from "./concepts.ts";
 *
 * The composition root (src/app/concepts.ts) builds and instruments the concepts; nothing here
 * holds state.
 */
import type AuditLogConcept from "../concepts/AuditLog/AuditLogConcept.ts";
import type DeviceTrustConcept from "../concepts/DeviceTrust/DeviceTrustConcept.ts";
import type PasswordAuthenticationConcept from "../concepts/PasswordAuthentication/PasswordAuthenticationConcept.ts";
import type RateLimitingConcept from "../concepts/RateLimiting/RateLimitingConcept.ts";
import type RequestingConcept from "../concepts/Requesting/RequestingConcept.ts";
import type RolesConcept from "../concepts/Roles/RolesConcept.ts";
import type SessioningConcept from "../concepts/Sessioning/SessioningConcept.ts";
import { bound } from "../engine/mod.ts";

export const Requesting = bound<RequestingConcept>("Requesting");
export const Sessioning = bound<SessioningConcept>("Sessioning");
export const PasswordAuthentication = bound<PasswordAuthenticationConcept>(
  "PasswordAuthentication",
);
export const RateLimiting = bound<RateLimitingConcept>("RateLimiting");
export const DeviceTrust = bound<DeviceTrustConcept>("DeviceTrust");
export const Roles = bound<RolesConcept>("Roles");
export const AuditLog = bound<AuditLogConcept>("AuditLog");
