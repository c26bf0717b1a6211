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
  // managed bridges: /1.0/networks with managed, POST/PUT/PATCH/DELETE/rename (other types refused, naming type)
  'network',
  'network_leases',
  'network_leases_location',
  'network_state',
  'network_state_bond_bridge',
  // a nic's `network` key names a managed network (lxc network attach sends it)
  'instance_nic_network',
  // /1.0/warnings with the host's warnings (lxcfs, inotify limits, root's subordinate ids, cgroup layout)
  'warnings',
  // /1.0/storage-pools over the one pool `default` and its instance and image volumes (new pools and custom volumes refused)
  'storage',
  // GET /1.0/resources and /1.0/storage-pools/{pool}/resources (space and inodes from statfs)
  'resources',
  // GET .../volumes/{type}/{name}/state: an instance volume's usage as du counts it
  'storage_volume_state',
  // the guest API, /dev/lxd/sock (libs/guest-api)
  'restrict_devlxd',
  'devlxd_events',
  'cloud_init',
  'instance_ready_state',
  // /1.0/instances/{name}/metadata and /metadata/templates (lxc config metadata, lxc config template)
  'container_edit_metadata',
  // GET /1.0/instances/{name}/state says how the boot goes: boot {init, ready, ready_at, ready_ms, failed_units}
  'berth_instance_boot',
  // POST /1.0/images with an application/x-berth-recipe body
  'berth_image_build',
];
