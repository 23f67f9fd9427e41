/**
 * Runs `work` with the names of the warnings Node emits meanwhile collected into the array it is
 * given (e.g. "MaxListenersExceededWarning", which Node prints past ten listeners on one signal).
 */
export async function withWarnings<T>(work: (warnings: readonly string[]) => Promise<T>): Promise<T> {
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(warning.name);
  process.on("warning", onWarning);
  try {
    return await work(warnings);
  } finally {
    process.off("warning", onWarning);
  }
}
