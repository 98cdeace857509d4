# Shared by the maintainer scripts of the .deb and the .rpm. nfpm cannot
# include one file from another, so build.sh puts this file in place of
# each script's COMMON placeholder line. POSIX sh: runs under dash, busybox and bash.

SPARE_UNIT=spare-node.service
SPARE_GROUP=spare
SPARE_DATA=/var/lib/spare

# systemd_running: true when systemd is PID 1 here (not in a chroot, an
# image build or a container without it).
systemd_running() { [ -d /run/systemd/system ]; }

spare_create_group() {
	getent group "$SPARE_GROUP" >/dev/null 2>&1 && return 0
	if command -v addgroup >/dev/null 2>&1 && addgroup --help 2>&1 | grep -q -- --system; then
		addgroup --quiet --system "$SPARE_GROUP"
	else
		groupadd --system "$SPARE_GROUP"
	fi
}

# spare_installing_user prints the person who ran the installer: sudo sets
# SUDO_USER, pkexec (GNOME Software, KDE Discover via PackageKit) sets
# PKEXEC_UID. Root and system accounts (uid < 1000) are never named.
spare_installing_user() {
	who=${SUDO_USER:-}
	if [ -z "$who" ] && [ -n "${PKEXEC_UID:-}" ]; then
		who=$(getent passwd "$PKEXEC_UID" | cut -d: -f1)
	fi
	[ -n "$who" ] || return 1
	uid=$(id -u "$who" 2>/dev/null) || return 1
	[ "$uid" -ge 1000 ] || return 1
	echo "$who"
}

# spare_add_installing_user puts the person who ran the installer into the
# group, so that their desktop app may use the daemon's socket.
spare_add_installing_user() {
	who=$(spare_installing_user) || return 0
	id -nG "$who" | tr ' ' '\n' | grep -qx "$SPARE_GROUP" && return 0
	if command -v adduser >/dev/null 2>&1 && adduser --help 2>&1 | grep -q -- --system; then
		adduser --quiet "$who" "$SPARE_GROUP"
	else
		usermod -a -G "$SPARE_GROUP" "$who"
	fi
	echo "spare: added $who to the group $SPARE_GROUP; log out and back in for the desktop app to reach the daemon."
}

# spare_record_owner records the person who ran the installer as an owner
# of the daemon in $SPARE_DATA/owners (root's, 0644; the daemon ignores it
# otherwise): owners change the settings, withdraw, export the wallet key
# and submit jobs; other members of the group watch and pause. Runs after
# spare_data_dir; a user already listed is left alone.
spare_record_owner() {
	who=$(spare_installing_user) || return 0
	uid=$(id -u "$who")
	owners="$SPARE_DATA/owners"
	if [ -f "$owners" ] && grep -Eq "^[[:space:]]*$uid([[:space:]]|#|\$)" "$owners"; then
		return 0
	fi
	if [ ! -f "$owners" ]; then
		{
			echo "# Users who administer this Spare daemon besides root: they change its"
			echo "# settings, withdraw and export the wallet, submit jobs. One user a line,"
			echo "# by name or numeric ID. Other members of the group $SPARE_GROUP watch and pause."
		} >"$owners"
	fi
	echo "$uid # $who" >>"$owners"
	chown root:root "$owners"
	chmod 0644 "$owners"
	echo "spare: recorded $who as an owner of Spare in $owners."
}

# spare_data_dir creates the daemon's data directory: the daemon's files
# stay root-only (it runs with UMask=0077); the group may only traverse
# the directory to reach the socket, spare.sock (0660 root:spare).
spare_data_dir() {
	mkdir -p "$SPARE_DATA"
	chown "root:$SPARE_GROUP" "$SPARE_DATA"
	chmod 0710 "$SPARE_DATA"
}

spare_wallet_notice() {
	[ -d "$SPARE_DATA" ] || return 0
	echo "spare: your wallet and earnings history stay in $SPARE_DATA (keys in $SPARE_DATA/wallet, ledger in $SPARE_DATA/spare.db)."
	echo "spare: reinstalling Spare picks them up again. Copy that directory somewhere safe before deleting it: the keys are the only way to the money earned."
}
