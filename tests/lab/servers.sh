# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# Real Debian servers in a lab host (sourced by tests/lab/lab.sh; see docs/internals/TESTING.md).
# Each server gets its own config and state under $LAB_STATE/srv/<name>/ (nothing under /etc or
# /var is written), runs in the foreground in the host's namespace, is recorded in
# $LAB_STATE/pids under <name> and is stopped by PID (lab_kill <name>, or lab_down).
# <name> is "<kind>-<host>-<port>", e.g. sshd-srv-10022. Every function waits until the server
# listens (bounded, LAB_READY_TIMEOUT s), prints its PID, and returns non-zero (with the tail of
# its log on stderr) if it did not start.
#
# Daemons that insist on /run get a private tmpfs there; `ip netns exec` already gives the
# command its own mount namespace, so the host's /run is untouched.

lab_srv_dir()
{
	local d="$LAB_STATE/srv/$1"
	rm -rf -- "$d"
	mkdir -p "$d" && chmod 755 "$d" && echo "$d"
}

# Start a server: lab_srv_start NAME HOST PORT... -- CMD...
lab_srv_start()
{
	local name=$1 host=$2 ports=() pid ns
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		ports+=("$1")
		shift
	done
	shift
	ns=$(lab_ns "$host")
	pid=$(lab_spawn "$name" "$ns" "$@") || return 1
	if ! lab_wait_listen "$ns" "${ports[@]}"; then
		lab_log "$name did not start; log:"
		tail -n 20 "$LAB_STATE/log/$name.log" >&2
		lab_kill "$name"
		return 1
	fi
	echo "$pid"
}

# OpenSSH: lab_sshd HOST PORT [SSHD_OPTION=VALUE...]
# Listens on the host's IPv4 and IPv6 address; own ed25519 and ecdsa host keys; UsePAM no;
# extra options are passed as -o (e.g. PasswordAuthentication=no, DebianBanner=no,
# KexAlgorithms=+diffie-hellman-group1-sha1).
lab_sshd()
{
	local host=$1 port=$2 name d o opts=()
	shift 2
	name="sshd-$host-$port"
	d=$(lab_srv_dir "$name") || return 1
	ssh-keygen -q -t ed25519 -N '' -C lab -f "$d/hk_ed25519" || return 1
	ssh-keygen -q -t ecdsa -N '' -C lab -f "$d/hk_ecdsa" || return 1
	cat >"$d/sshd_config" <<-EOF
	Port $port
	ListenAddress $(lab_addr4 "$host")
	ListenAddress $(lab_addr6 "$host")
	HostKey $d/hk_ed25519
	HostKey $d/hk_ecdsa
	PidFile $d/sshd.pid
	UsePAM no
	StrictModes no
	PermitRootLogin no
	EOF
	for o in "$@"; do
		opts+=(-o "$o")
	done
	lab_srv_start "$name" "$host" "$port" -- sh -c \
		'mount -t tmpfs -o mode=755,size=1m lab-run /run && mkdir -m 755 /run/sshd && exec "$@"' \
		sh /usr/sbin/sshd -D -e -f "$d/sshd_config" "${opts[@]}"
}

# Telnet: lab_telnetd HOST PORT [TELNETD_ARG...]
# /usr/sbin/telnetd (inetutils) per connection, on the host's IPv4 and IPv6 address, started by
# LAB_TELNETD_LAUNCHER: "inetd" (default) is inetutils-inetd in the foreground (-d), the
# superserver Debian 12's telnetd package pulls in; "socat" is one `socat TCP-LISTEN:PORT,fork
# EXEC:telnetd,nofork` per family, which execs the same telnetd on the accepted socket as inetd
# does. They differ in one thing: inetutils-inetd's main loop calls sleep(1) whenever select()
# fails, EINTR included, so the exit of every telnetd (its SIGCHLD) leaves inetd deaf for a
# second: a connection made within a second of the end of the previous session is accepted by
# the kernel at once but gets its first byte only when that second is over (bench/RESULTS.md,
# issue 11, back-to-back diagnoses). socat keeps accepting. Extra arguments go to telnetd (e.g.
# --exec-login=/path/fake; no spaces, commas or colons with socat).
lab_telnetd()
{
	local host=$1 port=$2 name d
	shift 2
	name="telnetd-$host-$port"
	d=$(lab_srv_dir "$name") || return 1
	case ${LAB_TELNETD_LAUNCHER:-inetd} in
	inetd)
		{
			echo "$(lab_addr4 "$host"):$port stream tcp nowait root /usr/sbin/telnetd telnetd $*"
			echo "$(lab_addr6 "$host"):$port stream tcp6 nowait root /usr/sbin/telnetd telnetd $*"
		} >"$d/inetd.conf"
		lab_srv_start "$name" "$host" "$port" -- /usr/sbin/inetutils-inetd -d \
			--pidfile="$d/inetd.pid" "$d/inetd.conf"
		;;
	socat)
		# shellcheck disable=SC2016
		lab_srv_start "$name" "$host" "$port" -- sh -c \
			'socat -lf "$0/socat4.log" "TCP4-LISTEN:$1,bind=$2,reuseaddr,fork,backlog=128" \
				"EXEC:$4,nofork" &
			 exec socat -lf "$0/socat6.log" "TCP6-LISTEN:$1,bind=[$3],reuseaddr,fork,backlog=128" \
				"EXEC:$4,nofork"' \
			"$d" "$port" "$(lab_addr4 "$host")" "$(lab_addr6 "$host")" "/usr/sbin/telnetd${*:+ $*}"
		;;
	*)
		lab_log "lab_telnetd: LAB_TELNETD_LAUNCHER=inetd|socat"
		return 2
		;;
	esac
}

# Samba: lab_smbd HOST [smb1=on|off] [signing=default|auto|mandatory|disabled]
#                      [ports="445 139"] [anon=0|1|2] ["OPTION = VALUE"...]
# smb1=on sets `server min protocol = NT1` (SMBv1 enabled), off (default) `SMB2_02`;
# signing sets `server signing`; anon sets `restrict anonymous`; any argument containing " = "
# is added to [global] as is. A guest share "public" exists (map to guest = Bad User).
# The server's name is "<kind>-<host>-<first port>", e.g. smbd-srv-445.
lab_smbd()
{
	local host=$1 smb1=off signing=default ports="445 139" anon=0 extra=() a name d
	shift
	for a in "$@"; do
		case $a in
		smb1=*) smb1=${a#smb1=} ;;
		signing=*) signing=${a#signing=} ;;
		ports=*) ports=${a#ports=} ;;
		anon=*) anon=${a#anon=} ;;
		*" = "*) extra+=("$a") ;;
		*) lab_log "lab_smbd: unknown argument $a"; return 2 ;;
		esac
	done
	case $smb1 in
	on) smb1=NT1 ;;
	off) smb1=SMB2_02 ;;
	*) lab_log "lab_smbd: smb1=on|off"; return 2 ;;
	esac
	name="smbd-$host-${ports%% *}"
	d=$(lab_srv_dir "$name") || return 1
	mkdir -p "$d"/{lock,state,cache,private,pid,ncalrpc,binddns,usershares,share,log}
	chmod 1777 "$d/share"
	chmod 700 "$d/private"
	{
		cat <<-EOF
		[global]
		  netbios name = LABSMB
		  workgroup = WORKGROUP
		  server role = standalone server
		  smb ports = $ports
		  interfaces = $(lab_addr4 "$host") $(lab_addr6 "$host")
		  bind interfaces only = yes
		  disable netbios = yes
		  server min protocol = $smb1
		  server signing = $signing
		  restrict anonymous = $anon
		  map to guest = Bad User
		  load printers = no
		  printing = bsd
		  printcap name = /dev/null
		  disable spoolss = yes
		  lock directory = $d/lock
		  state directory = $d/state
		  cache directory = $d/cache
		  pid directory = $d/pid
		  private dir = $d/private
		  ncalrpc dir = $d/ncalrpc
		  binddns dir = $d/binddns
		  usershare path = $d/usershares
		  smb passwd file = $d/private/smbpasswd
		  log file = $d/log/log.%m
		  max log size = 1000
		  logging = file
		EOF
		for a in "${extra[@]}"; do
			echo "  $a"
		done
		cat <<-EOF
		[public]
		  path = $d/share
		  guest ok = yes
		  read only = yes
		EOF
	} >"$d/smb.conf"
	# shellcheck disable=SC2086
	lab_srv_start "$name" "$host" $ports -- sh -c \
		'mount -t tmpfs -o mode=755,size=4m lab-run /run && mkdir -p /run/samba && exec "$@"' \
		sh /usr/sbin/smbd --foreground --no-process-group --configfile="$d/smb.conf"
}

# VNC: lab_vncd HOST PORT none|vncauth [PASSWORD] [XTIGERVNC_ARG...]
# Xtigervnc display :PORT (X abstract sockets are per namespace) in a private /tmp and /run, listening
# on PORT on every address of the host (IPv4 and IPv6), -SecurityTypes None or VncAuth (password
# file made with tigervncpasswd -f; at most 8 characters, default "labpass"), -UseBlacklist=0.
lab_vncd()
{
	local host=$1 port=$2 auth=$3 pw=labpass name d sec
	shift 3
	case $auth in
	none) sec=None ;;
	vncauth)
		sec=VncAuth
		if [ $# -gt 0 ] && [[ $1 != -* ]]; then
			pw=$1
			shift
		fi
		;;
	*) lab_log "lab_vncd: none|vncauth"; return 2 ;;
	esac
	name="vncd-$host-$port"
	d=$(lab_srv_dir "$name") || return 1
	printf '%s\n' "$pw" | tigervncpasswd -f >"$d/passwd" || return 1
	chmod 600 "$d/passwd"
	lab_srv_start "$name" "$host" "$port" -- sh -c \
		'mount -t tmpfs -o mode=755,size=1m lab-run /run && cp "$0" /run/vncpasswd &&
		 mount -t tmpfs -o mode=1777,size=64m lab-tmp /tmp && exec "$@"' \
		"$d/passwd" /usr/bin/Xtigervnc ":$port" -rfbport "$port" -SecurityTypes "$sec" \
		-PasswordFile /run/vncpasswd -nolisten tcp -UseBlacklist=0 -desktop lab \
		-geometry 640x480 "$@"
}

# RDP: lab_xrdp HOST PORT [negotiate|tls|rdp] [nocert]
# xrdp --nodaemon with a copy of /etc/xrdp/xrdp.ini: security_layer as given (default
# negotiate), a self-signed certificate made with openssl (or, with nocert, a certificate path
# that does not exist), listening on tcp6://:PORT (IPv6 and IPv4-mapped) in a private /run.
# No xrdp-sesman: the connection confirm comes before any session.
lab_xrdp()
{
	local host=$1 port=$2 layer=${3:-negotiate} cert=yes name d
	[ "${4:-}" = nocert ] && cert=no
	name="xrdp-$host-$port"
	d=$(lab_srv_dir "$name") || return 1
	if [ $cert = yes ]; then
		openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=lab \
			-keyout "$d/key.pem" -out "$d/cert.pem" >/dev/null 2>&1 || return 1
	fi
	sed -e "s|^port=.*|port=tcp6://:$port|" \
		-e "s|^security_layer=.*|security_layer=$layer|" \
		-e "s|^certificate=.*|certificate=$d/cert.pem|" \
		-e "s|^key_file=.*|key_file=$d/key.pem|" \
		-e "s|^fork=.*|fork=true|" \
		-e "s|^LogFile=.*|LogFile=$d/xrdp.log|" \
		-e "s|^EnableSyslog=.*|EnableSyslog=false|" \
		/etc/xrdp/xrdp.ini >"$d/xrdp.ini" || return 1
	lab_srv_start "$name" "$host" "$port" -- sh -c \
		'mount -t tmpfs -o mode=755,size=1m lab-run /run &&
		 mkdir -p -m 755 /run/xrdp /run/xrdp/sockdir && exec "$@"' \
		sh /usr/sbin/xrdp --nodaemon --config "$d/xrdp.ini"
}

# rsync: lab_rsyncd HOST PORT mixed|auth
# rsync --daemon --no-detach on every address of the host, its own config: "mixed" has a module
# that opens without a password (open, writable) and one with auth users (priv); "auth" has
# priv only. Each module lists (list = yes, the default).
lab_rsyncd()
{
	local host=$1 port=$2 mode=$3 name d
	name="rsyncd-$host-$port"
	d=$(lab_srv_dir "$name") || return 1
	mkdir -p "$d/open" "$d/priv" && echo data >"$d/open/file"
	printf 'backup:labsecret\n' >"$d/secrets" && chmod 600 "$d/secrets"
	{
		printf 'port = %s\nuse chroot = no\npid file = %s/rsyncd.pid\n' "$port" "$d"
		[ "$mode" = mixed ] && printf '[open]\n  path = %s/open\n  comment = open backups\n  read only = no\n' "$d"
		printf '[priv]\n  path = %s/priv\n  comment = private\n  auth users = backup\n  secrets file = %s/secrets\n' "$d" "$d"
	} >"$d/rsyncd.conf"
	lab_srv_start "$name" "$host" "$port" -- rsync --daemon --no-detach --config="$d/rsyncd.conf"
}

# NFS: lab_nfsd HOST MOUNTD_PORT world|restricted
# rpcbind (111) and rpc.mountd from nfs-kernel-server, in a private /run with /var/lib/nfs and
# /etc/exports bound from the server's directory. This kernel has no nfsd (no nfsd filesystem),
# so nothing listens on 2049, but mountd answers EXPORT from its export table, which is what
# the probe asks. "world" exports one folder to * and one to 198.18.0.0/15; "restricted" the
# second only. The export file is $LAB_STATE/srv/nfsd-HOST/exports (change it, then run
# lab_nfsd_reload HOST).
lab_nfsd()
{
	local host=$1 mport=$2 mode=$3 name d
	name="nfsd-$host"
	d=$(lab_srv_dir "$name") || return 1
	mkdir -p "$d/lib" "$d/pub" "$d/priv"
	{
		[ "$mode" = world ] && echo "$d/pub *(ro,insecure,no_subtree_check,fsid=1)"
		echo "$d/priv 198.18.0.0/15(rw,no_subtree_check,fsid=2)"
	} >"$d/exports"
	# shellcheck disable=SC2016
	lab_srv_start "$name" "$host" 111 "$mport" -- sh -c \
		'mount -t tmpfs -o mode=755,size=1m lab-run /run && mkdir -p /run/rpcbind &&
		 mount --bind "$0/lib" /var/lib/nfs && mount --bind "$0/exports" /etc/exports &&
		 { rpcbind -f -w & } && sleep 0.2 && exportfs -ra &&
		 exec rpc.mountd -F -p "$1"' "$d" "$mport"
}

# Re-read the export file of lab_nfsd (inside mountd's mount namespace).
lab_nfsd_reload()
{
	local pid
	pid=$(awk -v n="nfsd-$1" '$2 == n { print $1 }' "$LAB_STATE/pids" | tail -n 1)
	[ -n "$pid" ] && nsenter -t "$pid" -m exportfs -ra
}

# iSCSI: lab_tgtd HOST PORT TARGET-IQN
# tgtd in the foreground on the host's IPv4 address, in a private /run (its control socket), one
# target with a 1 MiB LUN, open to every initiator. lab_tgtd_discovery_chap HOST binds an
# account to discovery afterwards (tgtadm inside tgtd's mount namespace).
lab_tgtd()
{
	local host=$1 port=$2 iqn=$3 name d
	name="tgtd-$host-$port"
	d=$(lab_srv_dir "$name") || return 1
	truncate -s 1M "$d/lun1.img" || return 1
	# shellcheck disable=SC2016
	lab_srv_start "$name" "$host" "$port" -- sh -c \
		'mount -t tmpfs -o mode=755,size=1m lab-run /run && mkdir -p /run/tgtd &&
		 { tgtd -f --iscsi "portal=$0:$1" & } && p=$! &&
		 for i in $(seq 100); do tgtadm --lld iscsi --op show --mode target >/dev/null 2>&1 && break; sleep 0.05; done &&
		 tgtadm --lld iscsi --op new --mode target --tid 1 -T "$2" &&
		 tgtadm --lld iscsi --op new --mode logicalunit --tid 1 --lun 1 -b "$3" &&
		 tgtadm --lld iscsi --op bind --mode target --tid 1 -I ALL && wait $p' \
		"$(lab_addr4 "$host")" "$port" "$iqn" "$d/lun1.img" || return 1
	# tgtd listens before its target exists: wait (bounded) until the target is there.
	local pid i
	pid=$(awk -v n="$name" '$2 == n { print $1 }' "$LAB_STATE/pids" | tail -n 1)
	for i in $(seq 1 100); do
		nsenter -t "$pid" -m tgtadm --lld iscsi --op show --mode target 2>/dev/null |
			grep -q "$iqn" && return 0
		sleep 0.05
	done
	lab_log "$name: target $iqn never appeared"
	return 1
}

lab_tgtd_discovery_chap()
{
	local pid
	pid=$(awk -v n="tgtd-$1-$2" '$2 == n { print $1 }' "$LAB_STATE/pids" | tail -n 1)
	[ -n "$pid" ] || return 1
	nsenter -t "$pid" -m tgtadm --lld iscsi --op new --mode account --user disc \
		--password labsecret12345 &&
		nsenter -t "$pid" -m tgtadm --lld iscsi --op bind --mode account --user disc
}

# Redis: lab_redisd HOST PORT open|password|protected
# redis-server 7 in the foreground on the host's IPv4 and IPv6 addresses, no persistence, its
# directory under $LAB_STATE. open: protected-mode no and no password (PING answers +PONG);
# password: requirepass (PING answers -NOAUTH); protected: protected-mode yes and no password
# (a client from another namespace gets -DENIED at accept, then the connection closes).
lab_redisd()
{
	local host=$1 port=$2 mode=$3 name d opts=()
	name="redisd-$host-$port"
	d=$(lab_srv_dir "$name") || return 1
	case $mode in
	open) opts=(--protected-mode no) ;;
	password) opts=(--protected-mode yes --requirepass lab-only-secret-123) ;;
	protected) opts=(--protected-mode yes) ;;
	*) return 2 ;;
	esac
	lab_srv_start "$name" "$host" "$port" -- redis-server --port "$port" \
		--bind "$(lab_addr4 "$host") $(lab_addr6 "$host")" "${opts[@]}" --save '' \
		--appendonly no --dir "$d" --daemonize no --logfile ''
}

# MariaDB: lab_mariadbd HOST PORT USERHOST
# mariadbd (mariadb-server) with a fresh data directory from mariadb-install-db under
# $LAB_STATE, run as root in the foreground on the host's IPv4 and IPv6 addresses, no name
# resolution, small InnoDB files. One user, app@USERHOST (e.g. '198.18.%'), is created at start:
# a client whose address matches no user's host part gets ERR 1130 instead of the greeting,
# which is how a real server produces "host not allowed" (mysql.user is checked at accept).
lab_mariadbd()
{
	local host=$1 port=$2 userhost=$3 name d
	name="mariadbd-$host-$port"
	d=$(lab_srv_dir "$name") || return 1
	mariadb-install-db --no-defaults --datadir="$d/data" --user=root \
		--auth-root-authentication-method=normal --skip-test-db \
		--innodb-log-file-size=4M >"$d/install.log" 2>&1 || {
		lab_log "mariadb-install-db failed:"
		tail -n 20 "$d/install.log" >&2
		return 1
	}
	printf "CREATE USER 'app'@'%s' IDENTIFIED BY 'lab-only-secret-123';\n" "$userhost" \
		>"$d/init.sql"
	lab_srv_start "$name" "$host" "$port" -- mariadbd --no-defaults --datadir="$d/data" \
		--user=root --port="$port" --bind-address="$(lab_addr4 "$host"),$(lab_addr6 "$host")" \
		--socket="$d/sock" --pid-file="$d/pid" --skip-log-bin --skip-name-resolve \
		--innodb-buffer-pool-size=8M --innodb-log-file-size=4M --init-file="$d/init.sql" \
		--log-error="$d/error.log"
}
