#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "weir_replay_out.h"

int
weir_replay_out_socket(struct weir_replay_out *o, const char *dest, unsigned ttl, char *err, size_t errlen)
{
	memset(o, 0, sizeof(*o));
	o->fd = -1;
	if (weir_endpoint_parse(dest, &o->to) != 0) {
		snprintf(err, errlen, "--to %s: not ADDRESS:PORT (198.18.0.2:26400, [fd00::2]:26400)", dest);
		return -1;
	}
	int family = o->to.sa.sa_family;
	o->fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (o->fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	int hops = ttl ? (int)ttl : 1;
	if (family == AF_INET6)
		setsockopt(o->fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops));
	else
		setsockopt(o->fd, IPPROTO_IP, IP_MULTICAST_TTL, &hops, sizeof(hops));
	/* Unreachable is said at once, not after the first send. */
	if (connect(o->fd, &o->to.sa, weir_sockaddr_len(&o->to)) != 0) {
		snprintf(err, errlen, "--to %s: %s", dest, strerror(errno));
		close(o->fd);
		o->fd = -1;
		return -1;
	}
	return 0;
}

/* The Ethernet destination: a group's own MAC (RFC 1112, RFC 2464), else
 * a locally administered one. */
static void
group_mac(const union weir_sockaddr *to, uint8_t mac[6])
{
	static const uint8_t unicast[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	memcpy(mac, unicast, 6);
	if (to->sa.sa_family == AF_INET6 && to->v6.sin6_addr.s6_addr[0] == 0xff) {
		mac[0] = 0x33, mac[1] = 0x33;
		memcpy(mac + 2, to->v6.sin6_addr.s6_addr + 12, 4);
	} else if (to->sa.sa_family == AF_INET) {
		const uint8_t *a = (const uint8_t *)&to->v4.sin_addr;
		if ((a[0] >> 4) == 0xE) {
			mac[0] = 0x01, mac[1] = 0x00, mac[2] = 0x5e;
			mac[3] = a[1] & 0x7f, mac[4] = a[2], mac[5] = a[3];
		}
	}
}

/* Frames from "from" to "dest", from src_mac to dst_mac (NULL: the group's
 * own MAC, else 02:00:00:00:00:02). */
static int
frame_ends(struct weir_replay_out *o, const char *dest, const char *from, const uint8_t *dst_mac,
	   const uint8_t src_mac[6], char *err, size_t errlen)
{
	memset(o, 0, sizeof(*o));
	o->fd = -1;
	if (weir_endpoint_parse(dest, &o->to) != 0 || weir_endpoint_parse(from, &o->from) != 0 ||
	    o->to.sa.sa_family != o->from.sa.sa_family) {
		snprintf(err, errlen, "--to %s --from-addr %s: two ADDRESS:PORT of one family", dest, from);
		return -1;
	}
	uint8_t group[6];
	group_mac(&o->to, group);
	weir_replay_frame_init(&o->tmpl, dst_mac ? dst_mac : group, src_mac, &o->from, &o->to);
	return 0;
}

int
weir_replay_out_port(struct weir_replay_out *o, struct weir_replay_port *port, const char *dest, const char *from,
		     const uint8_t *dst_mac, char *err, size_t errlen)
{
	if (frame_ends(o, dest, from, dst_mac, port->mac, err, errlen) != 0)
		return -1;
	o->port = port;
	if (port->udp_csum_nic) {
		o->tmpl.nic_csum = true;
		weir_replay_port_nic_csum(port, o->tmpl.v6);
	}
	return 0;
}

int
weir_replay_out_pcap(struct weir_replay_out *o, const char *path, const char *dest, const char *from, char *err,
		     size_t errlen)
{
	static const uint8_t src_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	if (frame_ends(o, dest, from, NULL, src_mac, err, errlen) != 0)
		return -1;
	o->pcap = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535, PCAP_TSTAMP_PRECISION_NANO);
	o->dump = o->pcap ? pcap_dump_open(o->pcap, path) : NULL;
	if (o->dump == NULL) {
		snprintf(err, errlen, "%s: %s", path, o->pcap ? pcap_geterr(o->pcap) : "pcap_open_dead failed");
		weir_replay_out_close(o);
		return -1;
	}
	return 0;
}

/* One datagram; a full qdisc is waited for, losing nothing. */
static int
send_whole(int fd, const uint8_t *payload, uint32_t len, char *err, size_t errlen)
{
	for (;;) {
		if (send(fd, payload, len, 0) == (ssize_t)len)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == ENOBUFS || errno == EAGAIN) {
			usleep(50);
			continue;
		}
		snprintf(err, errlen, "send: %s", strerror(errno));
		return -1;
	}
}

int
weir_replay_out_send(struct weir_replay_out *o, const uint8_t *payload, uint32_t len, uint64_t ts_ns, char *err,
		     size_t errlen)
{
	if (o->port) { /* o->unsent is set on failure only: it is read after one */
		uint8_t *f = weir_replay_port_frame(o->port, weir_replay_frame_len(&o->tmpl, len), err, errlen);
		if (f == NULL) {
			o->unsent = o->port->n + 1; /* the burst's frames the queue never took, and this one */
			return -1;
		}
		weir_replay_frame_build(&o->tmpl, f, payload, len);
		if (weir_replay_port_push(o->port, err, errlen) != 0) {
			o->unsent = o->port->n; /* this one among them */
			return -1;
		}
		return 0;
	}
	if (o->dump) {
		uint32_t n = weir_replay_frame_build(&o->tmpl, o->frame, payload, len);
		/* a nanosecond pcap: tv_usec holds nanoseconds */
		struct pcap_pkthdr h = { .ts = { .tv_sec = (time_t)(ts_ns / 1000000000ull),
						 .tv_usec = (suseconds_t)(ts_ns % 1000000000ull) },
					 .caplen = n, .len = n };
		pcap_dump((u_char *)o->dump, &h, o->frame);
		return 0;
	}
	if (send_whole(o->fd, payload, len, err, errlen) != 0) {
		o->unsent = 1;
		return -1;
	}
	return 0;
}

int
weir_replay_out_flush(struct weir_replay_out *o, char *err, size_t errlen)
{
	if (o->port && weir_replay_port_flush(o->port, err, errlen) != 0) {
		o->unsent = o->port->n;
		return -1;
	}
	return 0;
}

void
weir_replay_out_close(struct weir_replay_out *o)
{
	if (o->port)
		weir_replay_port_close(o->port);
	o->port = NULL;
	if (o->dump) {
		pcap_dump_close(o->dump);
		o->dump = NULL;
	}
	if (o->pcap) {
		pcap_close(o->pcap);
		o->pcap = NULL;
	}
	if (o->fd >= 0) {
		close(o->fd);
		o->fd = -1;
	}
}
