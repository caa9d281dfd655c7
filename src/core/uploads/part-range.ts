// The `partNumberRange` of SMH's per-part variant ("1,8-10,20"): which parts of a multipart upload a
// client wants signed one by one.
import { AppError } from '../errors.ts';

export const MAX_PART_NUMBER = 10_000;
/** Part numbers one request may ask to have signed. */
export const MAX_SIGNED_PARTS = 1000;

/** The part numbers a range names, ascending and without repeats. */
export function parsePartNumberRange(text: string): number[] {
  const bad = (why: string): AppError =>
    new AppError('InvalidArgument', `partNumberRange "${text.slice(0, 100)}" is invalid: ${why}.`);
  const numbers = new Set<number>();
  for (const item of text.split(',')) {
    const m = /^\s*(\d{1,5})\s*(?:-\s*(\d{1,5})\s*)?$/.exec(item);
    if (!m) throw bad('use part numbers and ranges such as 1,8-10,20');
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (from < 1 || to > MAX_PART_NUMBER) throw bad(`part numbers run from 1 to ${MAX_PART_NUMBER}`);
    if (to < from) throw bad(`the range ${from}-${to} runs backwards`);
    if (to - from + 1 > MAX_SIGNED_PARTS) throw bad(`at most ${MAX_SIGNED_PARTS} parts at a time`);
    for (let n = from; n <= to; n++) numbers.add(n);
    if (numbers.size > MAX_SIGNED_PARTS) throw bad(`at most ${MAX_SIGNED_PARTS} parts at a time`);
  }
  return [...numbers].sort((a, b) => a - b);
}
