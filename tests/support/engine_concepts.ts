/**
 * Small in-memory concepts for the engine's tests and benchmark: a request/response boundary,
 * an authenticator, and a counter. They need no database.
 */

/** A tiny Requesting: numbered requests, responses kept in a map. */
export class RequestsConcept {
  #next = 0;
  responses = new Map<string, Record<string, unknown>>();

  request(input: { path: string } & Record<string, unknown>): Promise<{ request: string }> {
    if (typeof input.path !== "string") throw new Error("no path");
    return Promise.resolve({ request: `r${++this.#next}` });
  }

  respond(
    input: { request: string } & Record<string, unknown>,
  ): Promise<{ request: string } | { error: string }> {
    const { request, ...rest } = input;
    if (this.responses.has(request)) {
      return Promise.resolve({ error: "Cannot respond: request already answered" });
    }
    this.responses.set(request, rest);
    return Promise.resolve({ request });
  }

  _responseOf(input: { request: string }): Array<{ response: Record<string, unknown> }> {
    const response = this.responses.get(input.request);
    return response ? [{ response }] : [];
  }
}

/** Users with passwords, and a query of their roles. */
export class AuthConcept {
  users = new Map<string, { password: string; roles: string[] }>([
    ["ada", { password: "pw-ada", roles: ["admin", "dev"] }],
    ["bob", { password: "pw-bob", roles: ["dev"] }],
  ]);
  /** When set, `authenticate` throws this. */
  failWith: Error | undefined;

  authenticate(
    input: { username: string; password: string },
  ): Promise<{ user: string } | { error: string }> {
    if (this.failWith) return Promise.reject(this.failWith);
    const found = this.users.get(input.username);
    if (!found || found.password !== input.password) {
      return Promise.resolve({ error: "Cannot authenticate: wrong username or password" });
    }
    return Promise.resolve({ user: input.username });
  }

  /** Not an action: a query. */
  _getRoles(input: { user: string }): Promise<Array<{ role: string } | { error: string }>> {
    const found = this.users.get(input.user);
    if (!found) return Promise.resolve([{ error: "Cannot get roles: no such user" }]);
    return Promise.resolve(found.roles.map((role) => ({ role })));
  }

  /** A helper named like a query, and a private one: neither is an action. */
  _helper(): number {
    return 1;
  }
  #secretHelper(): number {
    return 2;
  }
  usesSecretHelper(): Promise<{ n: number }> {
    return Promise.resolve({ n: this.#secretHelper() });
  }
}

/** Counts what it is told; `step` can be made to wait on a gate. */
export class CounterConcept {
  count = 0;
  gate: Promise<void> | undefined;

  async step(input: { n: number }): Promise<{ n: number }> {
    if (this.gate) await this.gate;
    this.count++;
    return { n: input.n };
  }

  start(input: { times: number }): Promise<{ times: number }> {
    return Promise.resolve({ times: input.times });
  }
}
