// The COS/S3 object API as a fastify plugin: one catch-all route that reads bodies as raw streams,
// resolves bucket/key and operation, authenticates, authorises, runs one command and renders errors
// as COS/S3 XML with x-cos-request-id on every response.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { isServerFault, noteFailure } from '../request-outcome.ts';
import { authenticate } from './authenticate.ts';
import { authorizeCaller } from './authorize.ts';
import { abortMultipartUpload } from './commands/abort-multipart-upload.ts';
import { completeMultipartUpload } from './commands/complete-multipart-upload.ts';
import { copyObject } from './commands/copy-object.ts';
import { createMultipartUpload } from './commands/create-multipart-upload.ts';
import { deleteObject } from './commands/delete-object.ts';
import { deleteObjects } from './commands/delete-objects.ts';
import { getObject } from './commands/get-object.ts';
import { getBucketLocation, headBucket } from './commands/head-bucket.ts';
import { listBuckets } from './commands/list-buckets.ts';
import { listMultipartUploads } from './commands/list-multipart-uploads.ts';
import { listObjects } from './commands/list-objects.ts';
import { listParts } from './commands/list-parts.ts';
import { postObject } from './commands/post-object.ts';
import { putObject } from './commands/put-object.ts';
import { uploadPart, uploadPartCopy } from './commands/upload-part.ts';
import type { ObjectContext, ObjectSurfaceDeps } from './context.ts';
import { applyCors, type CorsOptions, preflight } from './cors.ts';
import { OBJECT_REQUEST_ID_HEADERS, objectDialect, objectErrorAnswer } from './errors.ts';
import { type Operation, resolveOperation } from './router.ts';
import { type ObjectTarget, resolveTarget } from './target.ts';

/** How long a connection closed after an error may keep sending the body we do not read. */
export const LINGER_MS = 2000;

/** Internal route the HTTP layer rewrites every object API request to. */
export const OBJECT_ROUTE = '/__object_api__';

type Command = (ctx: ObjectContext) => Promise<void>;

/** Content-Type values held back from fastify's body parsing (see objectApiPlugin). */
const heldContentTypes = new WeakMap<FastifyRequest, string>();

const COMMANDS: Record<Exclude<Operation, 'Preflight'>, Command> = {
  ListBuckets: listBuckets,
  HeadBucket: headBucket,
  GetBucketLocation: getBucketLocation,
  ListObjects: listObjects,
  ListMultipartUploads: listMultipartUploads,
  DeleteObjects: deleteObjects,
  PostObject: postObject,
  PutObject: putObject,
  CopyObject: copyObject,
  GetObject: getObject,
  HeadObject: getObject,
  DeleteObject: deleteObject,
  CreateMultipartUpload: createMultipartUpload,
  UploadPart: uploadPart,
  UploadPartCopy: uploadPartCopy,
  ListParts: listParts,
  CompleteMultipartUpload: completeMultipartUpload,
  AbortMultipartUpload: abortMultipartUpload,
};

function renderError(
  request: FastifyRequest,
  reply: FastifyReply,
  requestId: string,
  target: ObjectTarget | undefined,
  err: unknown,
): void {
  if (reply.sent || reply.raw.headersSent) {
    // The body was already streaming: the only honest signal left is a broken connection.
    // No response line will be logged for it, so say here why the connection broke.
    const { status, code, message } = objectErrorAnswer(err);
    if (isServerFault(status)) request.log.error({ err, code }, 'the response broke off mid-body');
    else request.log.warn({ code, reason: message }, 'the response broke off mid-body');
    reply.raw.destroy(err instanceof Error ? err : undefined);
    return;
  }
  const resource = target ? `${target.host}${target.path}` : undefined;
  const rendered = objectDialect.render(err, { requestId, resource });
  const { status, code, message } = rendered;
  noteFailure(request, { status, code, message, err });
  const objectSize = err instanceof AppError ? err.details.ObjectSize : undefined;
  if (err instanceof AppError && err.code === 'InvalidRange' && objectSize !== undefined) {
    reply.header('content-range', `bytes */${objectSize}`);
  }
  // A request whose body we did not read: close the connection rather than read it to the end. The
  // rest of the body is discarded while the answer goes out (closing at once could reset the
  // connection before the client reads the answer), and the socket is destroyed if it lingers.
  if (!request.raw.readableEnded && request.method !== 'GET' && request.method !== 'HEAD') {
    reply.header('connection', 'close');
    request.raw.resume();
    // Not request.raw.socket: Node sets it to null when a body iterator stops early (an error
    // mid-body), while the response keeps its socket until it finishes.
    const socket = reply.raw.socket;
    reply.raw.once('finish', () => setTimeout(() => socket?.destroy(), LINGER_MS).unref());
  }
  reply.code(status).header('x-cos-trace-id', requestId);
  reply.removeHeader('etag');
  reply.removeHeader('content-length');
  if (request.method === 'HEAD') {
    reply.send();
    return;
  }
  reply.headers(rendered.headers).send(rendered.body);
}

function setObjectHeaders(reply: FastifyReply, requestId: string): void {
  for (const name of OBJECT_REQUEST_ID_HEADERS) reply.header(name, requestId);
  reply.header('server', 'mediahost');
}

/** Methods fastify has no route for (PROPFIND, TRACE, …) still get an object API error. */
export function rejectUnroutedMethod(request: FastifyRequest, reply: FastifyReply): void {
  const requestId = request.id;
  setObjectHeaders(reply, requestId);
  renderError(
    request,
    reply,
    requestId,
    undefined,
    new AppError('MethodNotAllowed', `The ${request.method} method is not allowed against this resource.`),
  );
}

async function handle(
  deps: ObjectSurfaceDeps,
  cors: CorsOptions,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const requestId = request.id;
  setObjectHeaders(reply, requestId);
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished)
      controller.abort(new AppError('IncompleteBody', 'The client closed the connection.'));
  });
  let target: ObjectTarget | undefined;
  try {
    applyCors(cors, request, reply);
    target = resolveTarget(request.originalUrl, request.headers.host, deps.config.vhostSuffixes);
    const op = resolveOperation(request.method, target, request.headers);
    if (op === 'Preflight') {
      preflight(cors, request, reply);
      return;
    }
    const ctx: ObjectContext = {
      request,
      reply,
      target,
      requestId,
      deps,
      signal: controller.signal,
      // POST Object carries its credentials in the form; the command authenticates itself.
      caller:
        op === 'PostObject'
          ? { key: null, dialect: 'cos', payload: { kind: 'plain' } }
          : await authenticate({ request, target, deps }),
    };
    if (op !== 'PostObject') await authorizeCaller(ctx, op === 'GetBucketLocation' ? 'HeadBucket' : op);
    await COMMANDS[op](ctx);
  } catch (err) {
    renderError(request, reply, requestId, target, err);
  }
}

export function objectApiPlugin(deps: ObjectSurfaceDeps): (app: FastifyInstance) => Promise<void> {
  const cors: CorsOptions = {
    origins: deps.config.corsOrigins,
    maxAgeSeconds: deps.config.corsMaxAgeSeconds,
  };
  return async (app) => {
    // Bodies stay unread streams: each command decides how to consume them.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
    // fastify answers 415 before any handler runs when Content-Type is not a well-formed media type,
    // but COS/S3 store it as opaque text and the COS SDK sends an empty one on Initiate (spec cos-api
    // §2.1). The header is kept out of body parsing and put back before the handler reads it.
    app.addHook('onRequest', async (request) => {
      const contentType = request.headers['content-type'];
      if (contentType === undefined) return;
      heldContentTypes.set(request, contentType);
      delete request.headers['content-type'];
    });
    app.addHook('preValidation', async (request) => {
      const contentType = heldContentTypes.get(request);
      if (contentType !== undefined) request.headers['content-type'] = contentType;
    });
    // What still escapes a command (a body failing before its first byte) gets this surface's answer.
    app.setErrorHandler((err, request, reply) => {
      renderError(request, reply, request.id, undefined, err);
    });
    app.route({
      method: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'OPTIONS', 'PATCH'],
      url: OBJECT_ROUTE,
      exposeHeadRoute: false,
      // Returning the reply tells fastify a streamed body is on its way (not an empty response).
      handler: async (request, reply) => {
        await handle(deps, cors, request, reply);
        return reply;
      },
    });
  };
}
