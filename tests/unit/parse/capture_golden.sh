#!/bin/bash
# SPDX-License-Identifier: MIT
# Re-take the golden captures of tests/data/{ssh,telnet,rdp,vnc} from Debian's real servers, run in a
# private network namespace (xp-cap, loopback only) and killed by PID. Needs root. The .expect
# sidecars are written by hand; compare new captures with them before committing.
set -u
here=$(cd "$(dirname "$0")" && pwd)
data=$(cd "$here/../../data" && pwd)
ns=xp-cap
tmp=$(mktemp -d /tmp/xp-cap.XXXXXX)
pids=()

cleanup()
{
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	sleep 0.5
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	ip netns del $ns 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "needs root"; exit 77; }
ip netns add $ns && ip -n $ns link set lo up || exit 1

start()
{
	setsid ip netns exec $ns "$@" </dev/null >>"$tmp/log" 2>&1 &
	pids+=($!)
}

wait_port()
{
	for _ in $(seq 1 50); do
		ip netns exec $ns ss -Hltn "sport = :$1" | grep -q LISTEN && return 0
		sleep 0.2
	done
	echo "port $1 not listening" >&2
	return 1
}

grab()
{
	ip netns exec $ns python3 "$here/grab.py" "$@"
}

# --- OpenSSH
sshv=$(dpkg-query -W -f '${Version}' openssh-server | sed 's/^1://; s/+/-/g')
ssh-keygen -q -t ed25519 -N '' -f "$tmp/hk"
ssh_run()
{
	start sh -c 'mount -t tmpfs -o mode=755,size=1m xp-run /run && mkdir -m 755 /run/sshd &&
		exec "$@"' sh /usr/sbin/sshd -D -e -f /dev/null -o ListenAddress=127.0.0.1 \
		-o HostKey="$tmp/hk" -o PidFile=none -o UsePAM=no "$@"
}
ssh_run -o Port=10022
ssh_run -o Port=10023 -o DebianBanner=no
ssh_run -o Port=10024 -o KexAlgorithms=+diffie-hellman-group1-sha1 -o Ciphers=+3des-cbc \
	-o HostKeyAlgorithms=+ssh-dss -o MACs=+hmac-md5
wait_port 10022 && grab ssh 10022 "$data/ssh/openssh-$sshv-default.bin"
wait_port 10023 && grab ssh 10023 "$data/ssh/openssh-$sshv-nodebianbanner.bin"
wait_port 10024 && grab ssh 10024 "$data/ssh/openssh-$sshv-weakalgs.bin"

# --- inetutils-telnetd through inetutils-inetd
telv=$(dpkg-query -W -f '${Version}' inetutils-telnetd | sed 's/^2://; s/+/-/g')
echo "127.0.0.1:10123 stream tcp nowait root /usr/sbin/telnetd telnetd" >"$tmp/inetd.conf"
start /usr/sbin/inetutils-inetd -d "$tmp/inetd.conf"
wait_port 10123 && grab telnet 10123 "$data/telnet/inetutils-telnetd-$telv-first.bin" first
grab telnet 10123 "$data/telnet/inetutils-telnetd-$telv-refused.bin"

# --- xrdp (security_layer negotiate, self-signed cert)
xrdpv=$(dpkg-query -W -f '${Version}' xrdp | sed 's/+/-/g')
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=xp \
	-keyout "$tmp/key.pem" -out "$tmp/cert.pem" >/dev/null 2>&1
rdp_port() { case $1 in negotiate) echo 10389 ;; tls) echo 10390 ;; rdp) echo 10391 ;; esac; }
for layer in negotiate tls rdp; do
	sed -e "s|^port=.*|port=tcp://127.0.0.1:$(rdp_port $layer)|" \
		-e "s|^security_layer=.*|security_layer=$layer|" \
		-e "s|^certificate=.*|certificate=$tmp/cert.pem|" \
		-e "s|^key_file=.*|key_file=$tmp/key.pem|" \
		-e "s|^LogFile=.*|LogFile=$tmp/xrdp-$layer.log|" \
		-e "s|^EnableSyslog=.*|EnableSyslog=false|" /etc/xrdp/xrdp.ini >"$tmp/xrdp-$layer.ini"
	start sh -c 'mount -t tmpfs -o mode=755,size=1m xp-run /run &&
		mkdir -p -m 755 /run/xrdp/sockdir && exec "$@"' sh /usr/sbin/xrdp --nodaemon \
		--config "$tmp/xrdp-$layer.ini"
done
for layer in negotiate tls rdp; do
	p=$(rdp_port $layer)
	wait_port $p || continue
	for req in 0x0b 0x00 0x01 none; do
		grab rdp $p "$data/rdp/xrdp-$xrdpv-$layer-req$req.bin" $req
	done
done

# --- TigerVNC (Xtigervnc), private /tmp and /run per server
vncv=$(dpkg-query -W -f '${Version}' tigervnc-standalone-server | sed 's/+/-/g')
printf 'secret\n' | tigervncpasswd -f >"$tmp/pw"
vnc_run()
{
	local disp=$1
	shift
	start sh -c 'mount -t tmpfs -o mode=755,size=1m xp-run /run && cp "$0" /run/pw &&
		mount -t tmpfs -o mode=1777,size=64m xp-tmp /tmp && exec "$@"' "$tmp/pw" \
		/usr/bin/Xtigervnc ":$disp" -localhost -nolisten tcp -desktop xp -geometry 320x240 "$@"
}
vnc_run 51 -rfbport 15901 -SecurityTypes None -UseBlacklist=0
vnc_run 52 -rfbport 15902 -SecurityTypes VncAuth -PasswordFile /run/pw -UseBlacklist=0
vnc_run 53 -rfbport 15903 -SecurityTypes None -Protocol3.3 -UseBlacklist=0
vnc_run 54 -rfbport 15904 -SecurityTypes TLSNone -UseBlacklist=0
vnc_run 55 -rfbport 15905 -PasswordFile /run/pw -UseBlacklist=0
vnc_run 56 -rfbport 15906 -SecurityTypes VncAuth -PasswordFile /run/pw
wait_port 15901 && grab vnc 15901 "$data/vnc/tigervnc-$vncv-none.bin"
wait_port 15902 && grab vnc 15902 "$data/vnc/tigervnc-$vncv-vncauth.bin"
wait_port 15903 && grab vnc 15903 "$data/vnc/tigervnc-$vncv-none-protocol33.bin"
wait_port 15904 && grab vnc 15904 "$data/vnc/tigervnc-$vncv-tlsnone-vencrypt.bin"
wait_port 15905 && grab vnc 15905 "$data/vnc/tigervnc-$vncv-default.bin"
wait_port 15906 && grab vncfail 15906 "$data/vnc/tigervnc-$vncv-blacklisted.bin" 6
echo "versions: openssh $sshv, inetutils-telnetd $telv, xrdp $xrdpv, tigervnc $vncv"
