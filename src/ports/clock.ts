// Clock: the time source of the domain, so tests and jobs can reason about expiry.

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
