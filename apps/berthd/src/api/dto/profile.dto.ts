import { IsString } from 'class-validator';
import { Ignores } from '../../http/dto.js';
import { ConfigDevicesDto } from './config-devices.dto.js';

/** POST /1.0/profiles: LXD's ProfilesPost. */
export class ProfilesPostDto extends ConfigDevicesDto {
  @IsString({ message: 'must be a string' })
  name: string;
}

/** PUT and PATCH /1.0/profiles/{name}: LXD's ProfilePut; what a client sends back unchanged from a GET is ignored. */
@Ignores('name', 'used_by', 'project')
export class ProfilePutDto extends ConfigDevicesDto {}

/** POST /1.0/profiles/{name}: a rename. */
export class ProfilePostDto {
  @IsString({ message: 'must be a string' })
  name: string;
}
