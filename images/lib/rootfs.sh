# Shell functions shared by the image recipes (images/*/build.sh) and the test fixtures that
# build Debian trees (test/fixtures/*/): the content-addressed cache, the Debian mirror,
# debootstrap, package installs in a chroot, and the container setup of Berth's images.
# Source it from a POSIX sh script running with `set -eu`; it defines functions only.
# Needs root, debootstrap and flock (util-linux).

berth_suite=bookworm

# tree_hash DIR...: the sha256 of the regular files under the directories (names and contents).
tree_hash() {
	for dir in "$@"; do
		(cd "$dir/.." && find "$(basename "$dir")" -type f | LC_ALL=C sort | xargs sha256sum)
	done | sha256sum | cut -c1-64
}

# The Debian mirror apt is configured with (deb822 or one-line format); the network allows no other.
debian_mirror() {
	if [ -n "${BERTH_DEBIAN_MIRROR:-}" ]; then echo "$BERTH_DEBIAN_MIRROR"; return; fi
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }
		     /^deb[ \t]/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' "$f"
	done | grep -E '/debian/?$' | head -n 1 | grep . || echo http://deb.debian.org/debian
}

# packages_of FILE: the package names listed in FILE (one a line, # comments), comma-separated.
packages_of() {
	grep -v -e '^#' -e '^$' "$1" | paste -sd, -
}

# Ends the processes a build started inside the tree $1 (a daemon a package script left behind),
# unmounts whatever is mounted under $1, deepest first, then removes it.
discard() {
	for proc in /proc/[0-9]*; do
		case $(readlink "$proc/root" 2>/dev/null) in "$1" | "$1"/*) kill -KILL "${proc#/proc/}" 2>/dev/null || true ;; esac
	done
	awk -v p="$1/" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r m; do umount -l "$m" || true; done
	rm -rf --one-file-system "$1"
}

# require_build_tools TOOL...: fails with a hint unless running as root with every TOOL on PATH.
require_build_tools() {
	for tool in debootstrap flock "$@"; do
		command -v "$tool" >/dev/null || { echo "$0: $tool is missing (see scripts/apt-packages)" >&2; exit 1; }
	done
	[ "$(id -u)" = 0 ] || { echo "$0: must run as root" >&2; exit 1; }
}

# cached_build CACHE KEY BUILD: prints CACHE/KEY, after building it if it is absent.
# `BUILD WORK` (a shell function, its output sent to stderr) must leave its result at WORK/result;
# WORK is a fresh directory beside the cache entry, and the result is renamed into place only
# when BUILD succeeded, so an interrupted build never looks finished. Concurrent callers
# serialize on CACHE/.lock; the second one finds the finished entry.
cached_build() {
	cache_dir=$1
	target="$1/$2"
	mkdir -p "$cache_dir"
	chmod 0700 "$(dirname "$cache_dir")" "$cache_dir"
	exec 9>"$cache_dir/.lock"
	flock 9
	if [ -d "$target" ]; then
		echo "$target"
		return 0
	fi
	for stale in "$cache_dir"/.build-*; do
		if [ -e "$stale" ]; then discard "$stale"; fi
	done
	work=$(mktemp -d "$cache_dir/.build-$2.XXXXXX")
	trap 'discard "$work"' EXIT
	trap 'exit 1' INT TERM HUP
	"$3" "$work" >&2
	mv -T "$work/result" "$target"
	echo "$target"
}

# bootstrap ROOT [PACKAGES_FILE]: debootstrap's minbase variant of the suite into ROOT, with the
# packages of PACKAGES_FILE included.
bootstrap() {
	include=$(if [ -n "${2:-}" ]; then packages_of "$2"; fi)
	mirror=$(debian_mirror)
	echo "building $berth_suite rootfs from $mirror with ${include:-minbase only}"
	debootstrap --variant=minbase ${include:+"--include=$include"} "$berth_suite" "$1" "$mirror"
}

# in_chroot ROOT COMMAND...: runs COMMAND chrooted into ROOT with /proc mounted and no service
# allowed to start (policy-rc.d), the way a package build would; unmounts /proc after.
in_chroot() {
	chroot_root=$1
	shift
	printf '#!/bin/sh\n# Written by a Berth build: no service starts while packages are installed.\nexit 101\n' >"$chroot_root/usr/sbin/policy-rc.d"
	chmod 0755 "$chroot_root/usr/sbin/policy-rc.d"
	mount -t proc proc "$chroot_root/proc"
	status=0
	chroot "$chroot_root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive HOME=/root "$@" || status=$?
	umount "$chroot_root/proc"
	rm -f "$chroot_root/usr/sbin/policy-rc.d"
	return "$status"
}

# install_packages ROOT PACKAGES_FILE: installs the listed packages into ROOT with apt, without
# recommends (as debootstrap's --include does) and without starting any daemon.
install_packages() {
	echo "installing $(packages_of "$2") into $1"
	in_chroot "$1" apt-get update -q
	# shellcheck disable=SC2046 # one word per package
	in_chroot "$1" apt-get install -q -y --no-install-recommends $(packages_of "$2" | tr , ' ')
}

# clean_apt ROOT: drops the downloaded packages and package lists (apt update restores them).
clean_apt() {
	rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*
}

# prepare_for_container ROOT: what a Berth image leaves to the container. The hostname comes from
# the container's UTS namespace; the machine id from container_uuid.
prepare_for_container() {
	rm -f "$1/etc/hostname"
	: >"$1/etc/machine-id"
	rm -f "$1/var/lib/dbus/machine-id"
	clean_apt "$1"
}

# container_networking ROOT: systemd-networkd takes eth0 by DHCP, systemd-resolved answers DNS
# (names of the managed network's dnsmasq). The wait for "online" is masked: a container without
# a nic must still reach `running`.
container_networking() {
	mkdir -p "$1/etc/systemd/network" "$1/etc/systemd/system/multi-user.target.wants" \
		"$1/etc/systemd/system/sockets.target.wants" "$1/etc/systemd/system/sysinit.target.wants"
	cat >"$1/etc/systemd/network/eth0.network" <<'NET'
[Match]
Name=eth0

[Network]
DHCP=ipv4

[DHCPv4]
UseHostname=false
NET
	ln -sf /lib/systemd/system/systemd-networkd.service "$1/etc/systemd/system/multi-user.target.wants/systemd-networkd.service"
	ln -sf /lib/systemd/system/systemd-networkd.socket "$1/etc/systemd/system/sockets.target.wants/systemd-networkd.socket"
	ln -sf /lib/systemd/system/systemd-resolved.service "$1/etc/systemd/system/sysinit.target.wants/systemd-resolved.service"
	ln -sf /dev/null "$1/etc/systemd/system/systemd-networkd-wait-online.service"
	ln -sf /run/systemd/resolve/stub-resolv.conf "$1/etc/resolv.conf"
}
