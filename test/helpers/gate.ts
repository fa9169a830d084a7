/** A door a test opens: work that awaits `opened` goes on only once the test calls `open()`. */
export interface Gate {
  opened: Promise<void>;
  open(): void;
}

export function gate(): Gate {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** Resolves once `count` of `promises` have settled (either way), as soon as they have. */
export function settledCount(promises: Promise<unknown>[], count: number): Promise<void> {
  return new Promise((resolve) => {
    let settled = 0;
    if (count <= 0) resolve();
    for (const promise of promises) {
      void promise.then(
        () => ++settled === count && resolve(),
        () => ++settled === count && resolve(),
      );
    }
  });
}
