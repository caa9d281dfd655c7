// Access tokens (spec smh §2.1): create with the library secret, renew, delete one, delete a user's.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { query, type SmhDeps } from '../context.ts';

export function tokenRoutes(app: FastifyInstance, deps: SmhDeps): void {
  const create = async (request: FastifyRequest) =>
    deps.tokens.create({
      libraryId: query(request, 'library_id'),
      librarySecret: query(request, 'library_secret'),
      spaceIds: (query(request, 'space_id') ?? '').split(','),
      userId: query(request, 'user_id'),
      clientId: query(request, 'client_id'),
      sessionId: query(request, 'session_id'),
      period: query(request, 'period'),
      grants: (query(request, 'grant') ?? '').split(','),
    });
  app.get('/token', create);
  app.post('/token', create);

  app.post<{ Params: { lib: string; token: string } }>('/token/:lib/:token', async (request) =>
    deps.tokens.renew(request.params.lib, request.params.token),
  );

  app.delete<{ Params: { lib: string; token: string } }>('/token/:lib/:token', async (request, reply) => {
    await deps.tokens.delete(request.params.lib, request.params.token);
    reply.code(204).send();
  });

  app.delete<{ Params: { lib: string } }>('/token/:lib', async (request, reply) => {
    await deps.tokens.deleteForUser({
      libraryId: request.params.lib,
      librarySecret: query(request, 'library_secret'),
      userId: query(request, 'user_id'),
      clientIds: (query(request, 'client_id') ?? '').split(',').filter((s) => s !== ''),
      sessionIds: (query(request, 'session_id') ?? '').split(',').filter((s) => s !== ''),
    });
    reply.code(204).send();
  });
}
