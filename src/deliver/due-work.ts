/**
 * What the worker knows of due work it has not claimed: which actions have some waiting, and until
 * when nothing falls due. A claim or a look that raced an announcement of new work may not have seen
 * it, so what it found is kept only if nothing was announced meanwhile (`mark`).
 */
export interface DueWork {
  /** New work was committed (for these actions, when known). */
  announce(actionIds?: readonly string[]): void;
  /** The due times changed: whatever the last look found no longer holds. */
  changed(): void;
  /** A mark to pass to `claimed` or `idle`: they keep what they found only if nothing changed since. */
  mark(): number;
  /** A claim made at `mark` left this behind: all may be waiting (`"all"`), or work of these actions. */
  claimed(mark: number, leftBehind: readonly string[] | "all"): void;
  /** A look made at `mark` found nothing unclaimed due before `until`. */
  idle(mark: number, until: number): void;
  /** Nothing is known of when work falls due (the worker was full, or the look failed). */
  forgetIdle(): void;
  /** Room that frees is worth a claim: work may be waiting for it. */
  worthAClaim(): boolean;
  /** No due work of `actionId` is known to wait for a claim (a new instance may be handed over). */
  nothingWaitsFor(actionId: string): boolean;
}

export function createDueWork(now: () => number): DueWork {
  /**
   * Actions with due work not yet claimed, as far as this worker knows: "all" until a claim has
   * taken everything its window held.
   */
  let waiting: Set<string> | "all" = "all";
  /** Counts notifications, so a claim that raced one does not clear what it announced. */
  let notifications = 0;
  /**
   * Nothing unclaimed falls due before this time, as of the last look (undefined: not known; the
   * worker was full, the look failed, or new work was announced since).
   */
  let idleUntil: number | undefined;

  function changed(): void {
    notifications++;
    idleUntil = undefined;
  }

  return {
    announce(actionIds) {
      if (!actionIds) waiting = "all";
      else if (waiting !== "all") for (const id of actionIds) waiting.add(id);
      changed();
    },
    changed,
    mark: () => notifications,
    claimed(mark, leftBehind) {
      if (notifications === mark) waiting = leftBehind === "all" ? "all" : new Set(leftBehind);
    },
    idle(mark, until) {
      if (notifications === mark) idleUntil = until;
    },
    forgetIdle() {
      idleUntil = undefined;
    },
    worthAClaim: () => waiting === "all" || waiting.size > 0 || idleUntil === undefined || now() >= idleUntil,
    nothingWaitsFor: (actionId) => waiting !== "all" && !waiting.has(actionId),
  };
}
