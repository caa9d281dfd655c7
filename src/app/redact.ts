// Secrets out of log text: every line the logger writes passes through redactSecrets, so a URL, a
// header map or an error message that carries a credential is masked wherever it was embedded.
// Secret: library secrets, access tokens, security tokens, signatures, passwords in URLs, auth
// headers and cookies. Kept: key ids (q-ak, X-Amz-Credential), which name a caller and grant nothing.

import { REDACTED } from '../config/loggable-config.ts';

export { REDACTED };

/** Query or form parameters `name=value` whose name says it carries a secret. */
const SECRET_PARAM = /(^|[^\w.-])([\w.-]*(?:secret|token|signature|password)[\w.-]*)=([^&\s"',;\\#]*)/gi;

/** JSON members whose name says they carry a secret: `"authorization":"..."` (escapes included). */
const SECRET_MEMBER =
  /"([^"\\]*(?:secret|token|signature|password|authorization|cookie)[^"\\]*)":(?:"(?:[^"\\]|\\.)*"|\[(?:"(?:[^"\\]|\\.)*",?)*\])/gi;

/** Passwords in URLs: scheme://user:password@host. */
const URL_PASSWORD = /([a-z][\w+.-]*:\/\/[^\s/:@"]*):([^\s/@"]+)@/gi;

/** The SMH token renewal and deletion paths carry the token itself: /api/v1/token/{library}/{token}. */
const TOKEN_PATH = /(\/api\/v1\/token\/[^/?\s"]+\/)([^/?\s"#]+)/g;

/** Auth header values written as text ("Authorization: q-sign-algorithm=..."), up to the line end. */
const AUTH_HEADER_TEXT = /(authorization:\s*)[^\r\n"\\]+/gi;

export function redactSecrets(text: string): string {
  return text
    .replace(SECRET_MEMBER, (_m, name: string) => `"${name}":"${REDACTED}"`)
    .replace(SECRET_PARAM, (m, before: string, name: string, value: string) =>
      value === '' ? m : `${before}${name}=${REDACTED}`,
    )
    .replace(URL_PASSWORD, `$1:${REDACTED}@`)
    .replace(TOKEN_PATH, `$1${REDACTED}`)
    .replace(AUTH_HEADER_TEXT, `$1${REDACTED}`);
}
