/**
 * Shared type helpers for concepts: opaque identifiers and the empty result.
 */

/** An opaque identifier: a string branded so ids of different kinds are not mixed up. */
export type ID = string & { readonly __brand: "ID" };

/** The result of an action that succeeds with nothing to report. */
export type Empty = Record<PropertyKey, never>;
