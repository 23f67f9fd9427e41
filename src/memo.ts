/**
 * A function's results kept per key, for values worked out from strings that rarely change: sealed
 * secrets, signing keys, actions' settings, URLs, templates, SQL. Each distinct key is computed
 * once. Bounded: with `limit` keys kept it starts over rather than grow without end (a changed
 * setting is a new key; the old one is dropped at the next start-over). A computation that throws
 * keeps nothing, so a bad key fails every time it is asked for.
 */
export function memoize<V>(compute: (key: string) => V, limit: number): (key: string) => V {
  const kept = new Map<string, V>();
  return (key) => {
    if (kept.has(key)) return kept.get(key) as V;
    const value = compute(key);
    if (kept.size >= limit) kept.clear();
    kept.set(key, value);
    return value;
  };
}
