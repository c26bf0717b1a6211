import { IsOptional } from 'class-validator';
import { Ignores } from '../../http/dto.js';
import { IsConfigMap } from './validators.js';

/** PUT and PATCH /1.0: LXD's ServerPut; the read-only fields of a GET, sent back, are ignored. */
@Ignores('api_extensions', 'api_status', 'api_version', 'auth', 'auth_methods', 'public', 'environment', 'auth_user_name', 'auth_user_method')
export class ServerPutDto {
  @IsOptional()
  @IsConfigMap()
  config?: Record<string, string> | null;
}
