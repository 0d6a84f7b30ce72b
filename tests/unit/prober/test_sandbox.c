/* SPDX-License-Identifier: MIT */
/*
 * The prober's sandbox (prober/sandbox.h), entered by a forked child: what probing needs still
 * works (TCP sockets of both families on loopback, rtnetlink, epoll, memory, randomness, the
 * socketpair); every escape kills the child with SIGSYS before it returns: open /etc/passwd,
 * execve /bin/sh, fork, a UNIX socket, ptrace, kill of another process. Needs nothing but
 * loopback (run in a private network namespace by meson).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "prober/sandbox.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

enum escape { ESC_NONE = 0, ESC_OPEN, ESC_EXECVE, ESC_FORK, ESC_UNIX, ESC_PTRACE, ESC_KILL };

static int listener = -1;
static struct sockaddr_in lis_addr;

/* Everything the prober does on a job; the exit status says which step failed. */
static int probe_like(int fd)
{
	struct epoll_event ev = {.events = EPOLLOUT};
	uint8_t rnd[8];
	int s4 = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int s6 = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	void *big = malloc(1 << 22);
	int on = 1;

	if (s4 < 0 || s6 < 0 || nl < 0 || ep < 0 || !big)
		return 10;
	memset(big, 1, 1 << 22);
	free(big);
	if (setsockopt(s4, SOL_IP, IP_RECVERR, &on, sizeof(on)) < 0)
		return 11;
	if (connect(s4, (struct sockaddr *)&lis_addr, sizeof(lis_addr)) < 0 && errno != EINPROGRESS)
		return 12;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, s4, &ev) < 0 || epoll_wait(ep, &ev, 1, 2000) != 1)
		return 13;
	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
		return 14;
	close(s4);
	close(s6);
	close(nl);
	close(ep);
	return write(fd, "ok", 2) == 2 ? 0 : 15;
}

static void try_escape(enum escape e)
{
	char *const argv[] = {"/bin/sh", "-c", "exit 0", NULL};

	switch (e) {
	case ESC_OPEN:
		(void)open("/etc/passwd", O_RDONLY);
		break;
	case ESC_EXECVE:
		(void)execve(argv[0], argv, NULL);
		break;
	case ESC_FORK:
		if (fork() == 0)
			_exit(0);
		break;
	case ESC_UNIX:
		(void)socket(AF_UNIX, SOCK_STREAM, 0);
		break;
	case ESC_PTRACE:
		(void)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		break;
	case ESC_KILL:
		(void)kill(getppid(), 0);
		break;
	case ESC_NONE:
		break;
	}
}

/* Fork a child that enters the sandbox, reports, does the probe's work or tries escape e.
 * Returns its wait status; *rep is what the child reported. */
static int run_child(enum escape e, struct sandbox_report *rep, char *said, size_t saidlen)
{
	int sv[2];
	int status = 0;
	ssize_t n;
	pid_t pid;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char err[160];
		struct sandbox_report r;
		int fd = sandbox_enter(sv[1], &r, err, sizeof(err));

		if (fd < 0)
			_exit(3);
		if (write(fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
			_exit(4);
		if (e != ESC_NONE) {
			try_escape(e);
			_exit(5); /* the call returned: the filter let it through */
		}
		_exit(probe_like(fd));
	}
	close(sv[1]);
	memset(rep, 0, sizeof(*rep));
	n = read(sv[0], rep, sizeof(*rep));
	assert_int_equal(n, sizeof(*rep));
	n = read(sv[0], said, saidlen - 1);
	said[n > 0 ? n : 0] = '\0';
	close(sv[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void test_probing_works(void **state)
{
	struct sandbox_report rep;
	char said[8];
	int st;
	int c;

	(void)state;
	st = run_child(ESC_NONE, &rep, said, sizeof(said));
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_string_equal(said, "ok");
	c = accept(listener, NULL, NULL);
	assert_true(c >= 0); /* the sandboxed connect reached the listener */
	close(c);
	assert_true(rep.fds_closed && rep.seccomp);
	if (geteuid() == 0) {
		assert_true(rep.privs_dropped);
		assert_true(strcmp(rep.user, "nobody") == 0 || strcmp(rep.user, "exposure") == 0);
		assert_true(rep.empty_fs);
	}
}

static void test_escapes_killed(void **state)
{
	static const enum escape each[] = {ESC_OPEN, ESC_EXECVE, ESC_FORK,
	                                   ESC_UNIX, ESC_PTRACE, ESC_KILL};
	struct sandbox_report rep;
	char said[8];

	(void)state;
	for (size_t i = 0; i < sizeof(each) / sizeof(each[0]); i++) {
		int st = run_child(each[i], &rep, said, sizeof(said));

		if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSYS)
			fail_msg("escape %zu: status %#x, not killed by SIGSYS", i, (unsigned)st);
		assert_true(rep.seccomp); /* it was inside when it tried */
	}
}

static void test_low_fd_refused(void **state)
{
	struct sandbox_report rep;
	char err[160];

	(void)state;
	assert_int_equal(sandbox_enter(2, &rep, err, sizeof(err)), -EBADF);
	assert_non_null(strstr(err, "sandbox:"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_probing_works),
	    cmocka_unit_test(test_escapes_killed),
	    cmocka_unit_test(test_low_fd_refused),
	};
	socklen_t len = sizeof(lis_addr);

	listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	lis_addr.sin_family = AF_INET;
	lis_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (listener < 0 || bind(listener, (struct sockaddr *)&lis_addr, sizeof(lis_addr)) < 0 ||
	    listen(listener, 4) < 0 ||
	    getsockname(listener, (struct sockaddr *)&lis_addr, &len) < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
