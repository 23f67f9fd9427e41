/**
 * Delay before the next attempt, as data: `schedule[n-1]` after the n-th attempt of a series,
 * randomised by ±jitter so that many instances failing together do not retry together.
 */
export type Backoff = (attemptNumber: number) => number;

export function scheduledBackoff(schedule: readonly number[], jitter: number, random: () => number = Math.random): Backoff {
  return (attemptNumber) => {
    const base = schedule[Math.min(attemptNumber, schedule.length) - 1] ?? 0;
    return Math.max(0, Math.round(base * (1 + jitter * (2 * random() - 1))));
  };
}
