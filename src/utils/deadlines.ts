/**
 * A queue of deadlines served by one timer: items are pushed in deadline order (every item of
 * one queue waits the same time, so arrival order is deadline order), the timer is armed for
 * the oldest deadline only, and items finished early are skipped when they reach the head.
 * An idle queue does not clear its timer but unrefs it (the process may exit; when it fires
 * it finds nothing to do), and refs it again for the next item. This replaces a `setTimeout`
 * and a `clearTimeout` per item by at most one timer per deadline interval, whether items
 * overlap or come one at a time. The engine uses one per `cascadeTimeoutMs` value; Requesting
 * uses two (the request timeout, and the grace a timed-out request is kept for a late collector).
 */

/** An item the queue holds; `done` once it needs no deadline any more. */
export interface Deadlined {
  /** `performance.now()` milliseconds at which the item is due. */
  dueAt: number;
  /** Finished before its deadline: the queue drops it without calling `onDue`. */
  done: boolean;
}

/** Drops this many finished items from the array's front at once (amortised compaction). */
const COMPACT_AT = 1024;

/** A FIFO of deadlines with one timer (see the module comment). */
export class DeadlineQueue<T extends Deadlined> {
  readonly #onDue: (item: T) => void;
  #items: T[] = [];
  #head = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** `onDue` is called once for each item whose deadline passes before it is done. */
  constructor(onDue: (item: T) => void) {
    this.#onDue = onDue;
  }

  /** Items held (finished ones not yet skipped included). */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Whether a timer keeps the process alive: exactly while items are queued. */
  get armed(): boolean {
    return this.#timer !== undefined && this.#timer.hasRef();
  }

  /** Adds an item; its `dueAt` must not be earlier than that of any item already queued. */
  push(item: T): void {
    this.#items.push(item);
    // A timer left from an idle spell is due no later than this item: it is used as it is.
    if (this.#timer === undefined) this.#arm(item.dueAt);
    else if (this.#items.length - this.#head === 1) this.#timer.ref();
  }

  /**
   * Call after marking an item done: drops finished items from the head, and unrefs the timer
   * once nothing is left (an idle queue does not keep the process alive).
   */
  settle(): void {
    const items = this.#items;
    let head = this.#head;
    while (head < items.length && items[head].done) head++;
    this.#setHead(head);
    if (this.size === 0 && this.#timer !== undefined) this.#timer.unref();
  }

  /** Forgets every item and stops the timer (shutdown). */
  clear(): void {
    this.#items = [];
    this.#head = 0;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(dueAt: number): void {
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, dueAt - performance.now()));
  }

  #fire(): void {
    this.#timer = undefined;
    const now = performance.now();
    const items = this.#items;
    let head = this.#head;
    const due: T[] = [];
    while (head < items.length) {
      const item = items[head];
      if (!item.done) {
        if (item.dueAt > now) break;
        due.push(item);
      }
      head++;
    }
    this.#setHead(head);
    // Re-armed before the callbacks run: one may push (and would arm a second timer).
    if (this.size > 0) this.#arm(this.#items[this.#head].dueAt);
    for (const item of due) this.#onDue(item);
    // Callbacks may have finished every item left.
    if (due.length > 0) this.settle();
  }

  #setHead(head: number): void {
    const items = this.#items;
    if (head === items.length) {
      if (items.length > 0) this.#items = [];
      this.#head = 0;
    } else if (head >= COMPACT_AT && head * 2 >= items.length) {
      this.#items = items.slice(head);
      this.#head = 0;
    } else {
      this.#head = head;
    }
  }
}
