/**
 * Variables of a synchronization. A sync is a function of its variables: destructuring its
 * parameter (`({ request, user }) => ...`) yields one fresh symbol per name, whose description
 * is the name. Within one sync the same name always gives the same symbol.
 */

/** The parameter of a sync: any property read yields that variable's symbol. */
export type Vars = Record<string, symbol>;

/** A fresh set of variables: each name read from it becomes a new symbol, kept for re-reads. */
export function freshVars(): Vars {
  const made = new Map<string, symbol>();
  return new Proxy({} as Vars, {
    get(_target, name) {
      if (typeof name !== "string") return undefined;
      let variable = made.get(name);
      if (variable === undefined) {
        variable = Symbol(name);
        made.set(name, variable);
      }
      return variable;
    },
  });
}

/** Whether a pattern value is a variable. */
export function isVar(value: unknown): value is symbol {
  return typeof value === "symbol";
}

/** The name of a variable, for messages. */
export function varName(variable: symbol): string {
  return variable.description ?? "?";
}
