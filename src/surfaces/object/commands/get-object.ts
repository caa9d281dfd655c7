// GetObject and HeadObject: conditional requests, a single Range (206 with the whole-object CRC-64,
// as COS does), response-* overrides, and the traffic limit on the way out.
import { Readable } from 'node:stream';
import { AppError } from '../../../core/errors.ts';
import type { BucketName } from '../../../core/ids.ts';
import { throttle } from '../../../lib/streams.ts';
import { trafficLimit } from '../body.ts';
import { bucketOf, header, keyOf, type ObjectContext, sendEmpty } from '../context.ts';
import { evaluateConditions, objectResponseHeaders, parseRange } from '../object-headers.ts';

export async function getObject(ctx: ObjectContext): Promise<void> {
  const isHead = ctx.request.method === 'HEAD';
  const reader = await ctx.deps.objects.getObject(bucketOf(ctx) as BucketName, keyOf(ctx));
  const { object } = reader;
  const outcome = evaluateConditions((name) => header(ctx, name), object);
  if (outcome === 'not-modified') {
    ctx.reply
      .header('etag', `"${object.etag}"`)
      .header('last-modified', new Date(object.lastModified).toUTCString());
    ctx.reply.code(304).send();
    return;
  }
  if (outcome === 'precondition-failed') {
    throw new AppError('PreconditionFailed', 'At least one of the preconditions you specified did not hold.');
  }
  const headers = objectResponseHeaders(ctx, object);
  const range = isHead ? undefined : parseRange(header(ctx, 'range'), object.size);
  // The bytes are opened before any header is set: a blob that is gone is still an error answer.
  let stream: Readable | undefined =
    isHead || object.size === 0 ? undefined : await reader.open(range, ctx.signal);
  ctx.reply.headers(headers);
  if (isHead) {
    ctx.reply.header('content-length', String(object.size)).code(200).send();
    return;
  }
  if (!stream) {
    sendEmpty(ctx, 200);
    return;
  }
  let status = 200;
  if (range) {
    status = 206;
    ctx.reply.header('content-range', `bytes ${range.start}-${range.end}/${object.size}`);
  }
  const length = range ? range.end - range.start + 1 : object.size;
  ctx.reply.header('content-length', String(length));
  // Past the headers a failure can only break the connection; it is logged (with the request id).
  stream.once('error', (err) => {
    if (!ctx.signal.aborted) ctx.request.log.error({ err }, 'object body failed after its headers were sent');
  });
  const limit = trafficLimit(ctx);
  if (limit !== undefined) stream = Readable.from(throttle(stream, limit, ctx.signal));
  ctx.reply.code(status).send(stream);
}
