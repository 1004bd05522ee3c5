/**
 * The shapes of one collection: each distinct list of field names its documents have, kept once
 * and numbered from 1, so a stored document names its shape instead of repeating its field names
 * (`codec.ts`). Shapes are only ever added (a stored document, or a snapshot's capture, stays
 * readable), so they are capped: at most 4096, and 8 MiB of names; a document with a new shape
 * past the cap, or with a field name twice, gets none (it is stored as plain BSON).
 */
import { sameBytes, utf8 } from "./text.ts";

const MAX_SHAPES = 4096;
const MAX_SHAPE_BYTES = 8 * 1024 * 1024;
const UTF8 = new TextEncoder();

export interface Shape {
  readonly id: number;
  readonly names: readonly string[];
  /** Each name's UTF-8 bytes (no NUL). */
  readonly nameBytes: readonly Uint8Array[];
  /** Field name -> position. */
  readonly position: ReadonlyMap<string, number>;
  /** Bytes the names take in BSON (each with its NUL). */
  readonly namesSize: number;
}

export class Shapes {
  readonly #list: Shape[] = [];
  readonly #byKey = new Map<string, number>();
  #bytes = 0;
  /** The shape found last: most documents of a collection share one. */
  #last?: Shape;

  get size(): number {
    return this.#list.length;
  }

  /** The names of every shape, in id order (what a snapshot writes). */
  names(): string[][] {
    return this.#list.map((s) => [...s.names]);
  }

  get(id: number): Shape {
    const s = this.#list[id - 1];
    if (!s) throw new Error(`Cannot read document: unknown shape ${id}`);
    return s;
  }

  /** Adds a shape with the next id (also how a snapshot's shapes are taken back, in order). */
  add(names: string[]): Shape {
    const nameBytes = names.map((s) => UTF8.encode(s));
    const shape: Shape = {
      id: this.#list.length + 1,
      names,
      nameBytes,
      position: new Map(names.map((s, i) => [s, i])),
      namesSize: nameBytes.reduce((sum, x) => sum + x.length + 1, 0),
    };
    this.#list.push(shape);
    this.#byKey.set(names.join("\0"), shape.id);
    this.#bytes += shape.namesSize;
    return shape;
  }

  /**
   * The shape of the `n` names whose bytes lie at `b[spans[4i+1]..spans[4i+2])`, made if new;
   * undefined when the document gets none (see the module comment).
   */
  find(b: Uint8Array, spans: Int32Array, n: number): Shape | undefined {
    const last = this.#last;
    if (last && last.names.length === n) {
      let same = true;
      for (let i = 0; i < n && same; i++) {
        same = sameBytes(last.nameBytes[i], b, spans[i * 4 + 1], spans[i * 4 + 2]);
      }
      if (same) return last;
    }
    const names: string[] = [];
    for (let i = 0; i < n; i++) names.push(utf8(b, spans[i * 4 + 1], spans[i * 4 + 2]));
    const known = this.#byKey.get(names.join("\0"));
    if (known !== undefined) return this.#last = this.#list[known - 1];
    if (this.#list.length >= MAX_SHAPES || new Set(names).size !== n) return undefined;
    if (this.#bytes + names.reduce((sum, x) => sum + x.length + 1, 0) > MAX_SHAPE_BYTES) {
      return undefined;
    }
    return this.#last = this.add(names);
  }
}
