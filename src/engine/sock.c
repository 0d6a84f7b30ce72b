/* SPDX-License-Identifier: MIT */
/*
 * Socket mechanics: a non-blocking socket with IP_RECVERR / IPV6_RECVERR set before connect(),
 * its poll handle, the ICMP error queue, what the kernel says of a connecting socket, and which
 * local failures (EMFILE...) are a shortage rather than a verdict. Sockets are our own (not
 * uv_tcp_t) so that the error queue can be read: see ENGINE.md. No policy here: attempt.c
 * decides when to connect and what an answer means for the job.
 */
#include "engine/engine_internal.h"

#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ERRQUEUE_MAX 16 /* error-queue entries read per drain; more is a flood */

static void sock_poll_cb(uv_poll_t *p, int status, int events);

static void sock_closed(uv_handle_t *h)
{
	struct engine_sock *s = h->data;
	struct engine_job *j = s->job;

	free(s);
	engine_job_unref(j);
}

/* Stop watching, close the fd and give the slot back; the struct goes in the close callback. */
void sock_close(struct engine_sock *s)
{
	struct engine_job *j = s->job;
	struct engine_target *t = j->t;

	elist_del(&s->link);
	uv_poll_stop(&s->poll);
	close(s->fd);
	s->fd = -1;
	t->inflight--;
	j->e->st.inflight--;
	uv_close((uv_handle_t *)&s->poll, sock_closed);
	engine_slot_released(t);
}

static int set_recverr(int fd, sa_family_t family)
{
	int on = 1;
	int r;

	if (family == AF_INET6)
		r = setsockopt(fd, SOL_IPV6, IPV6_RECVERR, &on, sizeof(on));
	else
		r = setsockopt(fd, SOL_IP, IP_RECVERR, &on, sizeof(on));
	return r < 0 ? -errno : 0;
}

/* A non-blocking socket with IP_RECVERR, connect() called. Returns the fd or -errno. */
static int start_connect(const struct addr *a, uint16_t port, int type)
{
	struct sockaddr_storage ss;
	socklen_t len = addr_to_sockaddr(a, port, &ss);
	int fd = socket(a->family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int r;

	if (fd < 0)
		return -errno;
	/* Before connect(): an ICMP error during SYN-SENT is only queued if this is already set. */
	r = set_recverr(fd, a->family);
	if (r < 0)
		goto out_close;
	if (connect(fd, (struct sockaddr *)&ss, len) == 0 || errno == EINPROGRESS)
		return fd;
	r = -errno;
out_close:
	close(fd);
	return r;
}

static int open_type(struct engine_job *j, unsigned tryno, int type, struct engine_sock **out)
{
	struct engine_sock *s = calloc(1, sizeof(*s));
	int r;

	*out = NULL;
	if (s == NULL)
		return -ENOMEM;
	s->t0_ns = engine_now_ns();
	j->e->st.connects++;
	/* A probe's later connection may go to another port of the same host (probe_tx.next_port).
	 */
	r = start_connect(&j->t->addr, j->run && j->run->port ? j->run->port : j->port, type);
	if (r < 0)
		goto out_free;
	s->fd = r;
	r = uv_poll_init_socket(j->e->loop, &s->poll, s->fd);
	if (r < 0) {
		close(s->fd);
		goto out_free;
	}
	s->poll.data = s;
	s->job = j;
	s->tryno = tryno;
	j->refs++;
	elist_add_tail(&j->socks, &s->link);
	j->t->inflight++;
	if (j->t->inflight > j->e->st.target_peak)
		j->e->st.target_peak = j->t->inflight;
	if (++j->e->st.inflight > j->e->st.inflight_peak)
		j->e->st.inflight_peak = j->e->st.inflight;
	/* Writable = connected or failed; POLLERR also wakes us for a queued ICMP error. A UDP
	 * socket is "connected" at once: it waits for a datagram (or the error) instead. */
	s->events = type == SOCK_DGRAM ? UV_READABLE : UV_WRITABLE;
	uv_poll_start(&s->poll, (int)s->events, sock_poll_cb);
	*out = s;
	return 0;
out_free:
	free(s);
	return r;
}

int sock_open(struct engine_job *j, unsigned tryno, struct engine_sock **out)
{
	return open_type(j, tryno, SOCK_STREAM, out);
}

int sock_open_udp(struct engine_job *j, struct engine_sock **out)
{
	return open_type(j, 0, SOCK_DGRAM, out);
}

static void icmp_from_cmsgs(struct msghdr *m, struct port_result *pr, bool *seen)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		bool v4 = c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR;
		bool v6 = c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR;
		struct sock_extended_err ee;

		if (!(v4 || v6) || c->cmsg_len < CMSG_LEN(sizeof(ee)))
			continue;
		memcpy(&ee, CMSG_DATA(c), sizeof(ee));
		if (ee.ee_origin != SO_EE_ORIGIN_ICMP && ee.ee_origin != SO_EE_ORIGIN_ICMP6)
			continue;
		/* The first ICMP error is the answer to our SYN; later ones change nothing. */
		if (*seen)
			continue;
		*seen = true;
		pr->icmp_type = ee.ee_type;
		pr->icmp_code = ee.ee_code;
		pr->sys_errno = (int)ee.ee_errno;
	}
}

/* Read the whole error queue. True if an ICMP error was in it (then pr holds type and code). */
bool sock_errqueue(int fd, struct port_result *pr)
{
	bool seen = false;

	for (int i = 0; i < ERRQUEUE_MAX; i++) {
		uint8_t data[64];
		union {
			struct cmsghdr align;
			uint8_t buf[512];
		} ctrl;
		struct iovec iov = {.iov_base = data, .iov_len = sizeof(data)};
		struct msghdr m = {
		    .msg_iov = &iov,
		    .msg_iovlen = 1,
		    .msg_control = ctrl.buf,
		    .msg_controllen = sizeof(ctrl.buf),
		};

		if (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			break;
		icmp_from_cmsgs(&m, pr, &seen);
	}
	return seen;
}

void sock_classify_errno(int err, struct port_result *pr)
{
	pr->sys_errno = err;
	switch (err) {
	case ECONNREFUSED:
	case ECONNRESET:
		pr->state = PORT_CLOSED;
		pr->reason = REASON_RESET;
		break;
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EACCES:
	case EPERM:
	case ENONET:
	case ENOPROTOOPT:
		pr->state = PORT_FILTERED;
		pr->reason = REASON_UNREACHABLE;
		break;
	case ETIMEDOUT:
	case EHOSTDOWN:
		pr->state = PORT_FILTERED;
		pr->reason = REASON_TIMEOUT;
		break;
	default:
		pr->state = PORT_ERROR;
		pr->reason = REASON_LOCAL_ERROR;
		break;
	}
}

static bool sockaddr_same(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	struct addr x, y;
	uint16_t px, py;

	if (addr_from_sockaddr((const struct sockaddr *)a, &x, &px) < 0 ||
	    addr_from_sockaddr((const struct sockaddr *)b, &y, &py) < 0)
		return false;
	return px == py && addr_equal(&x, &y);
}

/* No error pending: connected, or still in SYN-SENT? Returns 0 (waiting) or 1 (verdict). */
static int classify_connected(int fd, struct port_result *pr)
{
	struct sockaddr_storage peer, self;
	socklen_t plen = sizeof(peer), slen = sizeof(self);

	if (getpeername(fd, (struct sockaddr *)&peer, &plen) < 0) {
		if (errno == ENOTCONN)
			return 0;
		sock_classify_errno(errno, pr);
		return 1;
	}
	if (getsockname(fd, (struct sockaddr *)&self, &slen) < 0) {
		sock_classify_errno(errno, pr);
		return 1;
	}
	/* TCP simultaneous open with ourselves (loopback, ephemeral port): nothing listens. */
	if (sockaddr_same(&peer, &self)) {
		pr->state = PORT_CLOSED;
		pr->reason = REASON_RESET;
		pr->sys_errno = 0;
		return 1;
	}
	pr->state = PORT_OPEN;
	pr->reason = REASON_SYN_ACK;
	pr->sys_errno = 0;
	return 1;
}

/*
 * What the kernel knows of a connecting socket. The error queue comes first: a queued ICMP error
 * can wake POLLERR while SO_ERROR is still 0 and the socket still connecting, and for ICMP port
 * unreachable SO_ERROR says ECONNREFUSED exactly as for a reset. Returns 0 (still connecting) or
 * 1 (verdict in pr; icmp_type/code stay -1 unless an ICMP error was read).
 */
int sock_classify(int fd, struct port_result *pr)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	pr->icmp_type = -1;
	pr->icmp_code = -1;
	if (sock_errqueue(fd, pr)) {
		/* Reading SO_ERROR also clears it, so that POLLERR does not fire again. */
		(void)getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
		pr->state = PORT_FILTERED;
		pr->reason = REASON_UNREACHABLE;
		return 1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		soerr = errno;
	if (soerr != 0 && soerr != EINPROGRESS && soerr != EALREADY) {
		sock_classify_errno(soerr, pr);
		return 1;
	}
	return classify_connected(fd, pr);
}

/* Our side ran out of something that other sockets' closing gives back. */
bool sock_err_is_shortage(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM ||
	       err == EADDRNOTAVAIL;
}

/* One callback for every socket: the job's phase says who owns the socket now. */
static void sock_poll_cb(uv_poll_t *p, int status, int events)
{
	struct engine_sock *s = p->data;
	struct engine_job *j = s->job;

	switch (j->phase) {
	case JOB_CONNECTING:
		attempt_sock_event(j, s);
		break;
	case JOB_PROBING:
		probe_run_io(j, s, status, events);
		break;
	case JOB_UDP:
		udp_sock_event(j, s, status, events);
		break;
	default:
		uv_poll_stop(p);
		break;
	}
}

void sock_watch(struct engine_sock *s, unsigned events)
{
	s->events = events;
	uv_poll_start(&s->poll, (int)events, sock_poll_cb);
}
