// Who is calling the SMH API and what they may do (spec smh §1.3): the grants of an access token, its
// spaces, and the user it acts as. Every service checks its permission rule through these helpers.
import { AppError } from '../errors.ts';
import type { LibraryRecord } from '../libraries/model.ts';

export const GRANTS = [
  'admin',
  'create_space',
  'delete_space',
  'space_admin',
  'create_directory',
  'delete_directory',
  'delete_directory_permanent',
  'move_directory',
  'copy_directory',
  'upload_file',
  'upload_file_force',
  'begin_upload',
  'begin_upload_force',
  'confirm_upload',
  'create_symlink',
  'create_symlink_force',
  'delete_file',
  'delete_file_permanent',
  'move_file',
  'move_file_force',
  'copy_file',
  'copy_file_force',
  'delete_recycled',
  'restore_recycled',
  'media_process',
] as const;

export type Grant = (typeof GRANTS)[number];

export interface AccessContext {
  library: LibraryRecord;
  /** Spaces the caller may touch; null means every space of the library. */
  spaceIds: string[] | null;
  /** The user the caller acts as ("" for backend calls). */
  userId: string;
  grants: ReadonlySet<Grant>;
}

/** Grants that space_admin does not include (tenant-space management). */
const ADMIN_ONLY: ReadonlySet<Grant> = new Set<Grant>(['admin', 'create_space', 'delete_space']);

export function hasGrant(ctx: AccessContext, grant: Grant): boolean {
  if (ctx.grants.has('admin') || ctx.grants.has(grant)) return true;
  return ctx.grants.has('space_admin') && !ADMIN_ONLY.has(grant);
}

/** Passes when the caller holds any of the grants (admin holds all; space_admin all but space management). */
export function requireAnyGrant(ctx: AccessContext, grants: readonly Grant[], what: string): void {
  if (grants.some((g) => hasGrant(ctx, g))) return;
  throw new AppError(
    'NoPermission',
    `The access token lacks the permission to ${what} (needs ${grants.join(' or ')}).`,
  );
}

/** SMH: a token scoped to spaces never reaches another; a non-admin token needs a space list. */
export function requireSpaceAccess(ctx: AccessContext, spaceId: string): void {
  if (!ctx.library.isMultiTenant) {
    if (spaceId !== '-')
      throw new AppError('SpaceNotFound', 'A single-tenant library has only the space "-".');
    return;
  }
  if (ctx.spaceIds === null) {
    if (ctx.grants.has('admin')) return;
    throw new AppError('AccessTokenNotMatchSpace', `The access token is not scoped to space ${spaceId}.`);
  }
  if (!ctx.spaceIds.includes(spaceId)) {
    throw new AppError('AccessTokenNotMatchSpace', `The access token is not scoped to space ${spaceId}.`);
  }
}
