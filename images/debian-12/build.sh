#!/bin/sh
# Builds the debian-12 rootfs (bookworm, minbase + ./packages) with debootstrap and prints its path.
#
# The result is cached outside the repository, keyed by the sha256 of this recipe's files:
#   ${BERTH_ROOTFS_CACHE:-/var/cache/berth/rootfs}/<sha256>/
# A build runs in a temporary directory beside the cache entry and is renamed into place only
# when complete, so an interrupted build never looks finished. Concurrent callers serialize on
# a lock file; the second one finds the finished tree. Needs root and the `debootstrap` package.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cache=${BERTH_ROOTFS_CACHE:-/var/cache/berth/rootfs}
suite=bookworm

recipe_hash() {
	(cd "$here" && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-64)
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

# Unmounts whatever debootstrap left mounted under $1, deepest first, then removes it.
discard() {
	awk -v p="$1/" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r m; do umount -l "$m" || true; done
	rm -rf --one-file-system "$1"
}

command -v debootstrap >/dev/null || { echo "build.sh: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "build.sh: must run as root" >&2; exit 1; }

hash=$(recipe_hash)
target="$cache/$hash"

mkdir -p "$cache"
chmod 0700 "$(dirname "$cache")" "$cache"
exec 9>"$cache/.lock"
flock 9

if [ -d "$target" ]; then
	echo "$target"
	exit 0
fi

for stale in "$cache"/.build-*; do
	[ -e "$stale" ] && discard "$stale"
done

work=$(mktemp -d "$cache/.build-$hash.XXXXXX")
trap 'discard "$work"' EXIT INT TERM HUP

include=$(grep -v -e '^#' -e '^$' "$here/packages" | paste -sd, -)
mirror=$(debian_mirror)
echo "building $suite rootfs from $mirror with $include" >&2
debootstrap --variant=minbase --include="$include" "$suite" "$work/rootfs" "$mirror" >&2

root="$work/rootfs"
# The hostname comes from the container's UTS namespace; the machine id from container_uuid.
rm -f "$root/etc/hostname"
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
# Networking: systemd-networkd takes eth0 by DHCP, systemd-resolved answers DNS (names of the
# managed network's dnsmasq). The wait for "online" is masked: a container without a nic must
# still reach `running`.
mkdir -p "$root/etc/systemd/network" "$root/etc/systemd/system/multi-user.target.wants" \
	"$root/etc/systemd/system/sockets.target.wants" "$root/etc/systemd/system/sysinit.target.wants"
cat >"$root/etc/systemd/network/eth0.network" <<'NET'
[Match]
Name=eth0

[Network]
DHCP=ipv4

[DHCPv4]
UseHostname=false
NET
ln -sf /lib/systemd/system/systemd-networkd.service "$root/etc/systemd/system/multi-user.target.wants/systemd-networkd.service"
ln -sf /lib/systemd/system/systemd-networkd.socket "$root/etc/systemd/system/sockets.target.wants/systemd-networkd.socket"
ln -sf /lib/systemd/system/systemd-resolved.service "$root/etc/systemd/system/sysinit.target.wants/systemd-resolved.service"
ln -sf /dev/null "$root/etc/systemd/system/systemd-networkd-wait-online.service"
ln -sf /run/systemd/resolve/stub-resolv.conf "$root/etc/resolv.conf"
printf '%s\n' "$hash" >"$root/etc/berth-recipe"

mv -T "$root" "$target"
echo "$target"
