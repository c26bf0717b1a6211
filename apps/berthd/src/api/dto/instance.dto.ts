import { Allow, IsBoolean, IsOptional, IsString, ValidateIf } from 'class-validator';
import { Ignores } from '../../http/dto.js';
import { ConfigDevicesDto } from './config-devices.dto.js';
import { IsNameList } from './validators.js';

/** An instance's editable fields (LXD's InstancePut without what Berth ignores). */
export class InstanceFieldsDto extends ConfigDevicesDto {
  @IsOptional()
  @IsNameList('must be a list of profile names')
  profiles?: string[] | null;

  @IsOptional()
  @IsBoolean({ message: 'must be true or false' })
  ephemeral?: boolean | null;
}

/** POST /1.0/instances: LXD's InstancesPost. */
@Ignores('type', 'instance_type', 'architecture', 'stateful')
export class InstancesPostDto extends InstanceFieldsDto {
  @IsString({ message: 'must be a string' })
  name: string;

  /** An image, none, or a VM to import: read by instances' parseSource or migrate's parseImportSource. */
  @Allow()
  source?: unknown;

  /**
   * Starting on create is refused by the create (not available yet), so a start that is not
   * even a boolean is refused in the create's words.
   */
  @ValidateIf((o: InstancesPostDto) => o.start !== undefined)
  @IsBoolean({ message: 'starting on create is not available until the runtime is wired in; create, then start' })
  start?: boolean;
}

/** PUT and PATCH /1.0/instances/{name}; what a client sends back unchanged from a GET is ignored. */
@Ignores('name', 'architecture', 'type', 'stateful', 'status', 'status_code', 'created_at', 'last_used_at', 'location', 'project', 'expanded_config', 'expanded_devices')
export class InstancePutDto extends InstanceFieldsDto {}

/** POST /1.0/instances/{name}: LXD's InstancePost, a rename (moves between servers are not Berth's). */
@Ignores('migration', 'live')
export class InstancePostDto {
  @IsString({ message: 'must be a string' })
  name: string;
}
