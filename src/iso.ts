/** A stored time (epoch milliseconds, as every table keeps them) as the API and the CLI show it. */
export const iso = (ms: number) => new Date(ms).toISOString();
