import { IsOptional, IsString } from 'class-validator';
import { IsConfigMap, IsDeviceMap } from './validators.js';

/**
 * What profiles and instances both carry (LXD's ProfilePut). Only shapes are checked here, with
 * the aggregates' words; names, keys, values and device types are their rules. Absent and null
 * are both accepted and passed on: the aggregates read them (a PATCH with a null description
 * clears it).
 */
export class ConfigDevicesDto {
  @IsOptional()
  @IsString({ message: 'must be a string' })
  description?: string | null;

  @IsOptional()
  @IsConfigMap()
  config?: Record<string, string> | null;

  @IsOptional()
  @IsDeviceMap()
  devices?: Record<string, Record<string, string>> | null;
}
