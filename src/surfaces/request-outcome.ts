// What a surface tells the request log about a request it answered with an error: the wire code and
// the message the client got, and for server faults the error itself (its stack goes to the log only).
import type { FastifyRequest } from 'fastify';

export interface RequestFailure {
  status: number;
  code: string;
  message: string;
  /** The error behind a server fault; absent for client errors, which are logged without a stack. */
  err?: unknown;
}

const failures = new WeakMap<FastifyRequest, RequestFailure>();

/** 501 answers a request for something we do not implement: the client's doing, not a fault. */
export function isServerFault(status: number): boolean {
  return status >= 500 && status !== 501;
}

export function noteFailure(
  request: FastifyRequest,
  failure: { status: number; code: string; message: string; err: unknown },
): void {
  const { err, ...rest } = failure;
  failures.set(request, isServerFault(failure.status) ? { ...rest, err } : rest);
}

export function failureOf(request: FastifyRequest): RequestFailure | undefined {
  return failures.get(request);
}
