/**
 * The writes in progress that may hold a data key wrapped before a master-key rotation: a PUT
 * wraps its object's key when it begins and commits the record when its body has been read, which
 * can take long. A rotation may retire the old key only after a whole rewrap pass that began once
 * every such write had ended (`settled()`), or a record committed behind the pass would keep it.
 */
export class InFlightWrites {
  readonly #open = new Set<Promise<void>>();

  /** Runs `write`, counted as in progress until it settles. */
  track<T>(write: () => Promise<T>): Promise<T> {
    const p = write();
    const done = p.then(() => {}, () => {});
    this.#open.add(done);
    done.then(() => this.#open.delete(done));
    return p;
  }

  /** Writes in progress now. */
  get size(): number {
    return this.#open.size;
  }

  /** Resolves once every write in progress at the call has ended (later ones are not waited for). */
  settled(): Promise<void> {
    return Promise.all([...this.#open]).then(() => {});
  }
}
