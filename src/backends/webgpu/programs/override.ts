// Scoped overrides of a program family's choices (path, features) for tests and benchmarks: ops record their
// dispatches when called, so an override set around a callback covers exactly the ops that callback runs.

/** The active override (`current`, null outside any `run`) and `run(o, f)`, which layers o over it while f runs. */
export interface ScopedOverride<O extends object> {
  readonly current: Readonly<O> | null;
  run<T>(o: O, f: () => T): T;
}

/**
 * A scoped override for one program family; nested runs merge, the outer choice returns when f ends or throws.
 *
 * @example const o = scopedOverride<{ path?: 'a' | 'b' }>(); o.run({ path: 'a' }, () => o.current?.path) // 'a'
 */
export function scopedOverride<O extends object>(): ScopedOverride<O> {
  let current: O | null = null;
  return {
    get current() {
      return current;
    },
    run(o, f) {
      const prev = current;
      current = { ...prev, ...o } as O;
      try {
        return f();
      } finally {
        current = prev;
      }
    },
  };
}
