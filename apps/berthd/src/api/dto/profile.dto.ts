import { IsString } from 'class-validator';
import { Ignores } from '../../http/dto.js';
import { ConfigDevicesDto } from './config-devices.dto.js';

/** POST /1.0/profiles: LXD's ProfilesPost. */
export class ProfilesPostDto extends ConfigDevicesDto {
  @IsString({ message: 'must be a string' })
  name: string;
}

/**
 * PUT and PATCH /1.0/profiles/{name}: LXD's ProfilePut; what a client sends back unchanged from a
 * GET is ignored: the profile's read-only fields, and the fields of the response around them, which
 * Ansible's lxd_profile sends back whole (the old answer, its `metadata` included, with the new
 * config, description and devices beside it; LXD's JSON decoder skips unknown fields).
 */
@Ignores('name', 'used_by', 'project', 'type', 'status', 'status_code', 'operation', 'error_code', 'error', 'metadata')
export class ProfilePutDto extends ConfigDevicesDto {}

/** POST /1.0/profiles/{name}: a rename. */
export class ProfilePostDto {
  @IsString({ message: 'must be a string' })
  name: string;
}
