// Starting and stopping a server: open the container, create the default library on an empty data
// dir, listen, run the sweeper and the media workers; on close hand running media tasks back, stop
// accepting, let in-flight requests finish (up to the shutdown timeout), then release the database.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger as PinoLogger } from 'pino';
import type { Config } from '../config/schema.ts';
import type { CreatedLibrary } from '../core/libraries/library-service.ts';
import type { Clock } from '../ports/clock.ts';
import { type Container, createContainer } from './container.ts';
import { DeploymentConflictError } from './deployment.ts';
import { buildHttpApp } from './http.ts';

export interface RunningServer {
  url: string;
  port: number;
  app: FastifyInstance;
  container: Container;
  /** The default library created by this start, when the data dir was empty. */
  createdLibrary: CreatedLibrary | undefined;
  close(): Promise<void>;
}

export function publicUrlOf(config: Config, port: number): string {
  if (config.publicUrl !== '') return config.publicUrl;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}`;
}

/** How long a start waits for the blob store to answer about its marker. */
const CLAIM_TIMEOUT_MS = 5000;

/**
 * Refuses to run on another deployment's blob store. A store that does not answer yet is not a
 * reason to stay down (health reports it); the sweeper waits until the store's owner is confirmed.
 */
export async function claimBlobStore(container: Container): Promise<void> {
  try {
    await container.deployment.claim({ signal: AbortSignal.timeout(CLAIM_TIMEOUT_MS) });
  } catch (err) {
    if (err instanceof DeploymentConflictError) throw err;
    container.logger.warn(
      { err, blobStore: container.deployment.marker.location },
      'cannot read the deployment marker of the blob store; the sweeper waits until it can',
    );
  }
}

export async function startServer(
  config: Config,
  options: { logger?: PinoLogger; clock?: Clock } = {},
): Promise<RunningServer> {
  const container = await createContainer(config, options);
  let app: FastifyInstance | undefined;
  try {
    await claimBlobStore(container);
    const createdLibrary = await container.libraries.ensureDefault();
    // Before any request: confirms a previous run of this node left half done become retryable at once.
    await container.uploads.recoverInterruptedConfirms();
    app = await buildHttpApp(container);
    await app.listen({ host: config.host, port: config.port });
    const port = (app.server.address() as AddressInfo).port;
    container.publicUrl.set(publicUrlOf(config, port));
    container.sweeper.start();
    container.jobs.start();
    const running = app;
    let closing: Promise<void> | undefined;
    return {
      url: publicUrlOf(config, port),
      port,
      app: running,
      container,
      createdLibrary,
      close() {
        closing ??= (async () => {
          // Media tasks running here are stopped and handed back to the queue first: they need no
          // request to finish, and another node can take them while this one drains its requests.
          await container.jobs.stop();
          await container.sweeper.stop();
          const timer = setTimeout(() => {
            container.logger.warn('shutdown timeout reached; closing the remaining connections');
            running.server.closeAllConnections();
          }, config.shutdownTimeoutSeconds * 1000);
          try {
            await running.close();
          } finally {
            clearTimeout(timer);
            await container.close();
          }
        })();
        return closing;
      },
    };
  } catch (err) {
    await app?.close().catch(() => {});
    await container.close();
    throw err;
  }
}
