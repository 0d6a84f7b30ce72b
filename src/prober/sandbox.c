/* SPDX-License-Identifier: MIT */
/*
 * The prober's sandbox (sandbox.h). The order matters: what needs a file (the user database,
 * /dev/null) or a privilege (the mount namespace, chroot, setgroups) comes first; the seccomp
 * filter comes last, so that from the first byte of a probe reply on, only the calls below exist.
 * The list is what libuv's epoll loop, the engine's sockets, neigh.c's rtnetlink, the probes and
 * glibc's abort() call (docs/internals/PRIVSEP.md, "The system calls").
 */
#include "prober/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEEP_FD 3

static int fail(char *err, size_t errlen, const char *what, int e)
{
	snprintf(err, errlen, "sandbox: %s: %s", what, strerror(e));
	return -e;
}

/* 0 and 1 on /dev/null rather than closed: a later socket() must never become fd 0..2, where
 * a stray printf or a sanitizer report would write into a probed host's connection. */
static int keep_only(int keep, char *err, size_t errlen)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null < 0)
		return fail(err, errlen, "/dev/null", errno);
	if (dup2(null, 0) < 0 || dup2(null, 1) < 0)
		return fail(err, errlen, "dup2", errno);
	if (keep != KEEP_FD && (dup2(keep, KEEP_FD) < 0 || fcntl(KEEP_FD, F_SETFD, 0) < 0))
		return fail(err, errlen, "dup2", errno);
	if (close_range(KEEP_FD + 1, ~0U, 0) < 0)
		return fail(err, errlen, "close_range", errno);
	return KEEP_FD;
}

/* Looked up before chroot: the user database is a file. */
static const struct passwd *unprivileged_user(void)
{
	const struct passwd *pw = getpwnam(SANDBOX_USER);

	return pw ? pw : getpwnam("nobody");
}

/*
 * A private mount namespace with an empty read-only tmpfs as its root: nothing to read, nothing
 * to write, no device, even for a process that got a file descriptor somehow. /tmp is only the
 * mount point, hidden in this namespace alone.
 */
static bool empty_root(void)
{
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return false;
	if (mount("exposure-empty", "/tmp", "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
	          "size=4k,nr_inodes=1,mode=0555") < 0)
		return false;
	return chroot("/tmp") == 0 && chdir("/") == 0;
}

static int drop_privs(const struct passwd *pw, char *err, size_t errlen)
{
	if (setgroups(0, NULL) < 0)
		return fail(err, errlen, "setgroups", errno);
	if (setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0)
		return fail(err, errlen, "setresgid", errno);
	if (setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
		return fail(err, errlen, "setresuid", errno);
	/* the drop must be for good: getting root back has to fail */
	if (pw->pw_uid != 0 && setresuid(0, 0, 0) == 0)
		return fail(err, errlen, "setresuid(0) still works", EPERM);
	return 0;
}

/* Calls allowed whatever their arguments: the loop, I/O on descriptors already held, memory,
 * clocks, and what abort() and the exit path need. pipe2 and eventfd2 make anonymous kernel
 * objects (uv_loop_init's signal pipe, uv_async), nothing in a filesystem. */
static const int allowed[] = {
    SCMP_SYS(read),
    SCMP_SYS(write),
    SCMP_SYS(readv),
    SCMP_SYS(writev),
    SCMP_SYS(recvmsg),
    SCMP_SYS(sendmsg),
    SCMP_SYS(recvfrom),
    SCMP_SYS(sendto),
    SCMP_SYS(connect),
    SCMP_SYS(bind),
    SCMP_SYS(getsockopt),
    SCMP_SYS(setsockopt),
    SCMP_SYS(getsockname),
    SCMP_SYS(getpeername),
    SCMP_SYS(shutdown),
    SCMP_SYS(close),
    SCMP_SYS(fcntl),
    SCMP_SYS(fstat),
    SCMP_SYS(epoll_create1),
    SCMP_SYS(epoll_ctl),
    SCMP_SYS(epoll_wait),
    SCMP_SYS(epoll_pwait),
    SCMP_SYS(epoll_pwait2),
    SCMP_SYS(clock_gettime),
    SCMP_SYS(clock_getres),
    SCMP_SYS(gettimeofday),
    SCMP_SYS(clock_nanosleep),
    SCMP_SYS(nanosleep),
    SCMP_SYS(mmap),
    SCMP_SYS(munmap),
    SCMP_SYS(mremap),
    SCMP_SYS(brk),
    SCMP_SYS(mprotect),
    SCMP_SYS(madvise),
    SCMP_SYS(futex),
    SCMP_SYS(getrandom), /* also OpenSSL's random generator (TLS of the nas-admin probe) */
    SCMP_SYS(getpid),
    SCMP_SYS(gettid),
    SCMP_SYS(getuid),
    SCMP_SYS(geteuid),
    SCMP_SYS(getgid),
    SCMP_SYS(getegid),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigaction),
    SCMP_SYS(sigaltstack),
    SCMP_SYS(restart_syscall),
    SCMP_SYS(sched_yield),
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
    SCMP_SYS(pipe2),
    SCMP_SYS(eventfd2),
};

/*
 * The socket families probing uses: TCP and UDP over IPv4 and IPv6, rtnetlink for the
 * neighbours. UDP jobs (engine/udp.c, issue 12 §2) need nothing more than the list above:
 * socket(AF_INET/AF_INET6, SOCK_DGRAM) (the family is what is checked), setsockopt
 * IP_RECVERR/IPV6_RECVERR, connect, send (sendto), recv (recvfrom) and recvmsg with
 * MSG_ERRQUEUE for the ICMP errors.
 */
static const int families[] = {AF_INET, AF_INET6, AF_NETLINK};

static int add_rules(scmp_filter_ctx ctx)
{
	int r = 0;

	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]) && r == 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]) && r == 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
		                     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)families[i]));
	/* glibc's fstat is newfstatat(fd, "", st, AT_EMPTY_PATH): a descriptor, never a path */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(newfstatat), 1,
		                     SCMP_A3(SCMP_CMP_EQ, AT_EMPTY_PATH));
	/* libuv sets O_NONBLOCK and FD_CLOEXEC with these two requests */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
		                     SCMP_A1(SCMP_CMP_EQ, FIONBIO));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
		                     SCMP_A1(SCMP_CMP_EQ, FIOCLEX));
	/* abort() signals its own thread; no other process can be signalled */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
		                     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
	return r;
}

static int install_filter(char *err, size_t errlen)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int r;

	if (!ctx)
		return fail(err, errlen, "seccomp_init", ENOMEM);
	r = add_rules(ctx);
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r < 0 ? fail(err, errlen, "seccomp", -r) : 0;
}

int sandbox_fds(int keep, char *err, size_t errlen)
{
	if (keep <= 2)
		return fail(err, errlen, "the kept descriptor", EBADF);
	return keep_only(keep, err, errlen);
}

int sandbox_lock(struct sandbox_report *rep, char *err, size_t errlen)
{
	const struct passwd *pw = NULL;
	int r;

	rep->fds_closed = true;
	if (geteuid() == 0) {
		if (!(pw = unprivileged_user()))
			return fail(err, errlen, "no user " SANDBOX_USER " nor nobody", ENOENT);
		snprintf(rep->user, sizeof(rep->user), "%s", pw->pw_name);
		rep->empty_fs = empty_root();
		if ((r = drop_privs(pw, err, errlen)) < 0)
			return r;
		rep->privs_dropped = true;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return fail(err, errlen, "PR_SET_NO_NEW_PRIVS", errno);
	if ((r = install_filter(err, errlen)) < 0)
		return r;
	rep->seccomp = true;
	return 0;
}

int sandbox_enter(int keep, struct sandbox_report *rep, char *err, size_t errlen)
{
	int fd;
	int r;

	memset(rep, 0, sizeof(*rep));
	if ((fd = sandbox_fds(keep, err, errlen)) < 0)
		return fd;
	if ((r = sandbox_lock(rep, err, errlen)) < 0)
		return r;
	return fd;
}

void sandbox_describe(const struct sandbox_report *rep, char *buf, size_t size)
{
	snprintf(buf, size, "sandbox: %s%s, %s, %s", rep->privs_dropped ? "user " : "",
	         rep->privs_dropped ? rep->user : "not root, privileges kept",
	         rep->empty_fs ? "empty filesystem" : "no empty filesystem (needs root)",
	         rep->seccomp ? "seccomp" : "NO seccomp");
}
