// Access tokens (spec smh §2.1): create with the library secret, renew, delete one, delete a user's.
// The token service checks the secret or the token itself, so these rows do not authenticate.
import { Type } from '@sinclair/typebox';
import { tokenOperation } from '../operation.ts';
import { noEffect } from '../params.ts';

const commaList = (text: string | undefined): string[] => (text ?? '').split(',').filter((s) => s !== '');

const TOKEN_QUERY = {
  library_id: Type.Optional(Type.String()),
  space_id: Type.Optional(Type.String({ description: 'comma-separated space ids the token is scoped to' })),
  client_id: Type.Optional(Type.String()),
  session_id: Type.Optional(Type.String()),
  period: Type.Optional(Type.String({ description: 'seconds of validity, renewed by each use' })),
  grant: Type.Optional(Type.String({ description: 'comma-separated grants (spec smh §1.3)' })),
};

// The vendor's share features send these in a POST body; the spec calls them ignorable.
const SHARE_FIELDS = {
  shareDirectoryIdList: Type.Optional(Type.Unknown({ description: 'ignored: sharing is not implemented' })),
  shareAuthority: Type.Optional(Type.Unknown({ description: 'ignored: sharing is not implemented' })),
  shareDirectoryHistoryIdList: Type.Optional(Type.Unknown({ description: 'ignored' })),
  attachInfo: Type.Optional(noEffect('sharing is not implemented')),
};

export const createAccessToken = tokenOperation({
  name: 'CreateAccessToken',
  method: ['GET', 'POST'],
  path: 'token',
  query: TOKEN_QUERY,
  body: SHARE_FIELDS,
  summary: 'with `library_id` and `library_secret`; `period` clamped to [300, 315360000] s (ADR 0002 §2)',
  handle: async ({ deps, query }) =>
    deps.tokens.create({
      libraryId: query.library_id,
      librarySecret: query.library_secret,
      spaceIds: (query.space_id ?? '').split(','),
      userId: query.user_id,
      clientId: query.client_id,
      sessionId: query.session_id,
      period: query.period,
      grants: (query.grant ?? '').split(','),
    }),
});

export const renewAccessToken = tokenOperation({
  name: 'RenewAccessToken',
  method: 'POST',
  path: 'token/{lib}/{token}',
  query: { period: Type.Optional(noEffect('a renewal keeps the period the token was created with')) },
  handle: async ({ deps, params }) => deps.tokens.renew(params.lib, params.token),
});

export const deleteAccessToken = tokenOperation({
  name: 'DeleteAccessToken',
  method: 'DELETE',
  path: 'token/{lib}/{token}',
  async handle({ deps, params, reply }) {
    await deps.tokens.delete(params.lib, params.token);
    reply.code(204).send();
  },
});

export const deleteUserAccessTokens = tokenOperation({
  name: 'DeleteUserAccessTokens',
  method: 'DELETE',
  path: 'token/{lib}',
  query: { client_id: TOKEN_QUERY.client_id, session_id: TOKEN_QUERY.session_id },
  summary: "a user's tokens, optionally only some clients or sessions",
  async handle({ deps, params, query, reply }) {
    await deps.tokens.deleteForUser({
      libraryId: params.lib,
      librarySecret: query.library_secret,
      userId: query.user_id,
      clientIds: commaList(query.client_id),
      sessionIds: commaList(query.session_id),
    });
    reply.code(204).send();
  },
});
