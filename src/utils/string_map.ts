/**
 * A map from strings to values for entries that come and go all the time (one per request in
 * flight), kept as the own properties of a null-prototype object rather than in a `Map`.
 *
 * Why not a `Map`: V8 rehashes a `Map` into a new table whenever its deleted slots run out, that
 * is every few insertions when a handful of entries churn through a small table, and links each
 * old table to the next (for iterators). A table that has been promoted to the old generation
 * then keeps its successor, and every entry that successor held, alive through the next
 * young-generation collection, which promotes them in turn: under load that chain promoted every
 * request's objects (measured in the service: 1.0-1.5 MB at each scavenge, pauses of 2-5 ms; a
 * bare loop of 50 concurrent set/delete pairs promotes 1.5 MB a scavenge with a `Map` and 4 KB
 * with this). An object in dictionary mode reuses its table in place and links nothing.
 *
 * Keys are iterated in insertion order, except that integer-like keys come first (as for any
 * object's properties); nothing here depends on the order.
 */
export class StringMap<V> {
  #entries: Record<string, V> = Object.create(null);
  #size = 0;

  /** How many entries there are. */
  get size(): number {
    return this.#size;
  }

  get(key: string): V | undefined {
    return this.#entries[key];
  }

  has(key: string): boolean {
    return key in this.#entries;
  }

  set(key: string, value: V): this {
    if (!(key in this.#entries)) this.#size++;
    this.#entries[key] = value;
    return this;
  }

  /** Removes `key`; whether it was there. */
  delete(key: string): boolean {
    if (!(key in this.#entries)) return false;
    delete this.#entries[key];
    this.#size--;
    return true;
  }

  /** The values, as of now. */
  values(): V[] {
    return Object.values(this.#entries);
  }

  /** The entries, as of now. */
  entries(): Array<[string, V]> {
    return Object.entries(this.#entries);
  }

  /** Removes every entry. */
  clear(): void {
    this.#entries = Object.create(null);
    this.#size = 0;
  }
}
