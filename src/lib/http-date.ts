// HTTP dates: IMF-fixdate for headers (Date, Last-Modified) and ISO-8601 with milliseconds for XML bodies.

export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/** ISO-8601 UTC with milliseconds, the only form the AWS SDK accepts in XML (e.g. LastModified). */
export function isoDate(ms: number): string {
  return new Date(ms).toISOString();
}

/** Parses an HTTP date header; undefined when it is not a date. */
export function parseHttpDate(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
