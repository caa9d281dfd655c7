// Part numbers and sizes of SMH multipart uploads (spec smh §2.3.3): parts 1 to 10000, and the
// `partNumberRange` that asks begin and renew to sign some of them.

const MiB = 1024 * 1024;
/** SMH numbers parts 1 to 10000. */
const MAX_PARTS = 10_000;

/** The part size asked for, grown to whole MiB where the file would need more than 10000 parts. */
export function partSizeFor(size: number, wanted: number): number {
  return Math.max(wanted, Math.ceil(size / MAX_PARTS / MiB) * MiB);
}

/** "1-4,7,9-10" from ascending numbers. */
export function partRanges(numbers: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < numbers.length; ) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j]! + 1) j++;
    out.push(i === j ? `${numbers[i]}` : `${numbers[i]}-${numbers[j]}`);
    i = j + 1;
  }
  return out.join(',');
}
