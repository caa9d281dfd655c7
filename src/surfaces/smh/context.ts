// What the SMH surface's handlers work with: the services of the core they call.
import type { Config } from '../../config/schema.ts';
import type { NamespaceService } from '../../core/namespace/namespace-service.ts';
import type { SpaceService } from '../../core/spaces/space-service.ts';
import type { TokenService } from '../../core/tokens/token-service.ts';
import type { UploadService } from '../../core/uploads/upload-service.ts';

export interface SmhDeps {
  config: Config;
  tokens: TokenService;
  spaces: SpaceService;
  namespace: NamespaceService;
  uploads: UploadService;
}
