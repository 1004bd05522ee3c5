/**
 * `/ping`: the smallest round trip through Requesting, answered `{ pong: true }`. A liveness
 * check of the engine and a sample of the sync shape.
 */
import { Requesting } from "./concepts.ts";
import { actions, type Sync } from "../engine/mod.ts";

export const Ping: Sync = ({ request }) => ({
  when: actions([Requesting.request, { path: "/ping" }, { request }]),
  then: actions([Requesting.respond, { request, pong: true }]),
});
