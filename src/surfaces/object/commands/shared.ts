// Helpers several object commands share: owner elements, url encoding of listed keys, small XML
// request bodies, integer query parameters and copy sources.
import { AppError } from '../../../core/errors.ts';
import type { BucketName } from '../../../core/ids.ts';
import { type BodySink, ingestBody } from '../../../core/objects/ingest.ts';
import { inlineDigester } from '../../../lib/stream-digester.ts';
import { requestBody } from '../body.ts';
import { type ObjectContext, vendorHeader } from '../context.ts';
import { queryValue } from '../target.ts';

export function owner(ctx: ObjectContext): { ID: string; DisplayName: string } {
  return { ID: ctx.deps.ownerId, DisplayName: ctx.deps.ownerId.replace(/^.*uin\//, '') };
}

/** encoding-type=url: keys and prefixes in listings are URL-encoded. */
export function encoder(ctx: ObjectContext): {
  encode(value: string): string;
  encodingType: string | undefined;
} {
  const encodingType = queryValue(ctx.target, 'encoding-type');
  if (encodingType !== undefined && encodingType !== '' && encodingType !== 'url') {
    throw new AppError('InvalidArgument', 'encoding-type must be "url".', {
      details: { ArgumentName: 'encoding-type', ArgumentValue: encodingType },
    });
  }
  const isUrl = encodingType === 'url';
  return {
    encode: (value) => (isUrl ? encodeURIComponent(value).replace(/%2F/g, '/') : value),
    encodingType: isUrl ? 'url' : undefined,
  };
}

/** The encoding-type element name differs by dialect (spec cos-api §0). */
export function encodingTypeElement(ctx: ObjectContext, name: 'Encoding-Type' | 'Encoding-type'): string {
  return ctx.caller.dialect === 's3' ? 'EncodingType' : name;
}

/** An optional integer query parameter within bounds; anything else is InvalidArgument. */
export function intParam(
  ctx: ObjectContext,
  name: string,
  options: { min: number; fallback: number },
): number {
  const raw = queryValue(ctx.target, name);
  if (raw === undefined || raw === '') return options.fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < options.min || !Number.isSafeInteger(Number(raw))) {
    throw new AppError('InvalidArgument', `${name} must be an integer of at least ${options.min}.`, {
      details: { ArgumentName: name, ArgumentValue: raw },
    });
  }
  return Number(raw);
}

const SMALL_BODY_LIMIT = 4 * 1024 * 1024;

/**
 * Reads an XML request document (Complete, DeleteObjects) with the same integrity checks as object
 * bodies: Content-MD5, signed payload hash, checksums. At most 4 MiB (spec cos-api §2.9).
 */
export async function readDocument(ctx: ObjectContext): Promise<string> {
  const { body, declaredLength, expect } = requestBody(ctx, { requireLength: false });
  const chunks: Buffer[] = [];
  const memory: BodySink<{ size: number }> = {
    async write(source) {
      let size = 0;
      for await (const chunk of source) {
        chunks.push(Buffer.from(chunk));
        size += chunk.length;
      }
      return { size };
    },
    async discard() {},
  };
  await ingestBody(memory, inlineDigester, {
    body,
    maxSize: SMALL_BODY_LIMIT,
    expect,
    signal: ctx.signal,
    ...(declaredLength === undefined ? {} : { declaredLength }),
  });
  return Buffer.concat(chunks).toString('utf8');
}

export interface CopySource {
  bucket: BucketName;
  key: string;
}

const COS_SOURCE =
  /^([a-z0-9][a-z0-9-]*-\d+)\.cos[a-z0-9-]*\.[a-z0-9-]+\.(?:myqcloud\.com|tencentcos\.cn)\/(.+)$/;

/** x-cos-copy-source (`bucket.cos.region.myqcloud.com/key`) or x-amz-copy-source (`[/]bucket/key`). */
export function copySource(ctx: ObjectContext): CopySource {
  const raw = vendorHeader(ctx, 'copy-source');
  if (raw === undefined || raw.trim() === '') {
    throw new AppError('InvalidArgument', 'The copy source header is missing.');
  }
  const value = raw.trim().replace(/\?versionId=.*$/, '');
  const decode = (text: string): string => {
    try {
      return decodeURIComponent(text);
    } catch {
      throw new AppError('InvalidArgument', 'The copy source is not valid percent-encoded UTF-8.');
    }
  };
  const cos = COS_SOURCE.exec(value);
  if (cos) return { bucket: cos[1] as BucketName, key: decode(cos[2]!) };
  for (const suffix of ctx.deps.config.vhostSuffixes) {
    const m = new RegExp(`^([^/]+)\\.${suffix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/(.+)$`).exec(value);
    if (m) return { bucket: m[1] as BucketName, key: decode(m[2]!) };
  }
  const path = value.replace(/^\//, '');
  const slash = path.indexOf('/');
  if (slash <= 0 || slash === path.length - 1) {
    throw new AppError('InvalidArgument', 'The copy source must be of the form bucket/key.', {
      details: { ArgumentName: 'x-cos-copy-source', ArgumentValue: raw },
    });
  }
  return { bucket: decode(path.slice(0, slash)) as BucketName, key: decode(path.slice(slash + 1)) };
}
