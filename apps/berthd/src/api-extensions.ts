/**
 * LXD API extensions whose behaviour Berth implements (LXD's doc/api-extensions.md names them),
 * one per line; clients such as `lxc` and pylxd check for them before using a feature, so a name
 * goes here only when its behaviour is there. Berth's own start with `berth_`.
 */
export const API_EXTENSIONS: readonly string[] = [
  'etag',
  'patch',
  'profile_usedby',
  'container_full',
  'instances',
  'api_filtering',
  'console',
  'container_exec_user_group_cwd',
  'container_exec_recording',
  'container_backup',
  'file_delete',
  'file_append',
  'file_symlinks',
  'directory_manipulation',
  // GET /1.0/instances/{name}/state says how the boot goes: boot {init, ready, ready_at, ready_ms, failed_units}
  'berth_instance_boot',
  // POST /1.0/images with an application/x-berth-recipe body
  'berth_image_build',
];
