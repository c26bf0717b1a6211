#!/bin/sh
# Builds the debian-12-lamp rootfs and prints its path: bookworm minbase, ./packages (Apache with
# mod_php, MariaDB, cron) installed with apt, the notes application of ./app with its database
# and an empty table, and the networking of the debian-12 image (networkd DHCP on eth0).
#
# The result is cached outside the repository, keyed by the sha256 of this recipe's files and of
# the shared functions in ../lib:
#   ${BERTH_ROOTFS_CACHE:-/var/cache/berth/rootfs}/<sha256>/
# built in a temporary directory, renamed into place when complete, serialized by a lock file.
# Needs root and the `debootstrap` package.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
lib=$(cd "$here/../lib" && pwd)
# shellcheck source=../lib/rootfs.sh
. "$lib/rootfs.sh"

build() {
	root="$1/result"
	bootstrap "$root"
	install_packages "$root" "$here/packages"
	"$here/app/install.sh" "$root"
	prepare_for_container "$root"
	container_networking "$root"
	printf '%s\n' "$hash" >"$root/etc/berth-recipe"
}

require_build_tools
hash=$(tree_hash "$here" "$lib")
cached_build "${BERTH_ROOTFS_CACHE:-/var/cache/berth/rootfs}" "$hash" build
