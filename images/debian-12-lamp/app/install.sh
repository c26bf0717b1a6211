#!/bin/sh
# install.sh ROOT [BODY...]: installs the notes application into the Debian tree ROOT (apache2 with
# mod_php and mariadb-server already installed): index.php as the site's index, the database,
# user and table of schema.sql, and one row per BODY. MariaDB runs only for this, in bootstrap
# mode (no socket, no network), and has exited when the script returns.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../lib/rootfs.sh
. "$here/../../lib/rootfs.sh"

root=$1
shift

rm -f "$root/var/www/html/index.html"
install -m 0644 -o root -g root "$here/index.php" "$root/var/www/html/index.php"

sql_string() {
	printf "'%s'" "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e "s/'/''/g")"
}

{
	# Bootstrap mode starts without the grant tables; CREATE USER and GRANT need them loaded.
	echo 'FLUSH PRIVILEGES;'
	cat "$here/schema.sql"
	for body in "$@"; do
		printf 'INSERT INTO notes.notes (body) VALUES (%s);\n' "$(sql_string "$body")"
	done
} | in_chroot "$root" mariadbd --bootstrap --user=mysql --skip-networking --log-error= --silent-startup
