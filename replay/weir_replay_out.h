/*
 * Where a replay's packets go: a kernel UDP socket (unicast or multicast,
 * IPv4 or IPv6); a pcap file of whole Ethernet frames, stamped with the
 * time each packet was due, for tshark and Wireshark's MoldUDP64 dissector or
 * a weir on net_pcap to read; or a DPDK port's TX queue (weir_replay_port.h),
 * the same frames at line rate.
 */
#ifndef WEIR_REPLAY_OUT_H
#define WEIR_REPLAY_OUT_H

#include <stddef.h>
#include <stdint.h>

#include <pcap/pcap.h>

#include "weir_endpoint.h"
#include "weir_replay_frame.h"
#include "weir_replay_port.h"

struct weir_replay_out {
	union weir_sockaddr to;      /* the destination (pcap: the frames') */
	union weir_sockaddr from;    /* pcap only: the frames' source */
	int fd;                      /* socket; -1 with a pcap */
	pcap_t *pcap;
	pcap_dumper_t *dump;
	struct weir_replay_port *port;
	struct weir_replay_frame tmpl;   /* frames (pcap, port) */
	unsigned unsent;                 /* set when a send or flush fails: the packets handed over last that
					    never left (the failed one, and a port's burst the queue did not take) */
	uint8_t frame[14 + 40 + 8 + 9000];
};

/* A socket to dest ("ADDRESS:PORT"); ttl: multicast hops (0: the kernel's
 * 1).  0, or -1 with err said. */
int weir_replay_out_socket(struct weir_replay_out *o, const char *dest, unsigned ttl, char *err, size_t errlen);
/* A pcap file at path whose frames go from "ADDRESS:PORT" from to dest
 * (both of one family). */
int weir_replay_out_pcap(struct weir_replay_out *o, const char *path, const char *dest, const char *from, char *err,
			 size_t errlen);
/* Frames from "ADDRESS:PORT" from to dest (one family) out of a DPDK
 * port opened already; dst_mac NULL: a group's own MAC, else
 * 02:00:00:00:00:02. */
int weir_replay_out_port(struct weir_replay_out *o, struct weir_replay_port *port, const char *dest, const char *from,
			 const uint8_t *dst_mac, char *err, size_t errlen);
/* What waits for a burst leaves (a port; else nothing to do). */
int weir_replay_out_flush(struct weir_replay_out *o, char *err, size_t errlen);
/* One UDP payload, at (pcap) time ts_ns: 0, or -1 with err said. */
int weir_replay_out_send(struct weir_replay_out *o, const uint8_t *payload, uint32_t len, uint64_t ts_ns, char *err,
			 size_t errlen);
void weir_replay_out_close(struct weir_replay_out *o);

#endif
