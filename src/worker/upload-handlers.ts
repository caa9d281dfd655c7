// Background work of upload tasks run by the job runner: checking the instant-upload hashes of a
// large file after its confirm (UploadService.verifyInstantHashes).
import { INSTANT_HASH_JOB, type UploadService } from '../core/uploads/upload-service.ts';
import type { JobHandler } from './job-runner.ts';

export function uploadHandlers(uploads: UploadService): Record<string, JobHandler> {
  return {
    [INSTANT_HASH_JOB]: { run: ({ job, signal }) => uploads.verifyInstantHashes(job, signal) },
  };
}
