#!/bin/sh
# Builds the debian-12 rootfs (bookworm, minbase + ./packages) with debootstrap and prints its path.
#
# The result is cached outside the repository, keyed by the sha256 of this recipe's files and of
# the shared functions in ../lib:
#   ${BERTH_ROOTFS_CACHE:-/var/cache/berth/rootfs}/<sha256>/
# A build runs in a temporary directory beside the cache entry and is renamed into place only
# when complete, so an interrupted build never looks finished. Concurrent callers serialize on
# a lock file; the second one finds the finished tree. Needs root and the `debootstrap` package.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
lib=$(cd "$here/../lib" && pwd)
# shellcheck source=../lib/rootfs.sh
. "$lib/rootfs.sh"

build() {
	root="$1/result"
	bootstrap "$root" "$here/packages"
	prepare_for_container "$root"
	container_networking "$root"
	printf '%s\n' "$hash" >"$root/etc/berth-recipe"
}

require_build_tools
hash=$(tree_hash "$here" "$lib")
cached_build "${BERTH_ROOTFS_CACHE:-/var/cache/berth/rootfs}" "$hash" build
