/*
 * weir-replay serve: a MoldUDP64 re-request server over the log.  A request
 * (session, first sequence, count: a bare 20-byte header) is answered with
 * the events from the log, in order, as MoldUDP64 packets to the requester;
 * what the log says was lost is not sent (counted); what the log has not
 * reached yet is waited for (weir-control may be appending) up to a
 * deadline, then what exists is sent and the request counted late.  Counts
 * are capped per request and requests rate-limited per requester.  A log
 * keyed by sender is served for one sender, named.  A source whose events
 * the log holds in more topics than one (a rule's route:, weir frames'
 * frame-topic) is served from each topic named, its numbers taken from
 * whichever holds them.
 */
#ifndef WEIR_REPLAY_SERVE_H
#define WEIR_REPLAY_SERVE_H

#include <stdbool.h>
#include <stdint.h>

#include "weir_endpoint.h"
#include "weir_log_reader.h"
#include "weir_replay_follow.h"
#include "weir_replay_gather.h"
#include "weir_replay_limit.h"
#include "weir_replay_pack.h"

#define WEIR_REPLAY_PENDING 64
#define WEIR_REPLAY_SERVE_TOPICS 8         /* the first, and the others a source's events may be in */

/* Every figure of the server, also on its /metrics. */
#define WEIR_REPLAY_SERVE_FIGURES(X) \
	X(requests, "re-requests received") \
	X(answered, "requests answered whole: every number sent, or stated lost, or past the end of session") \
	X(events_sent, "events sent in answers") \
	X(packets_sent, "MoldUDP64 packets sent in answers") \
	X(events_lost, "numbers asked for that the log states lost (not sent)") \
	X(capped, "requests for more than --max-count events: answered up to it") \
	X(refused_malformed, "datagrams that are no 20-byte MoldUDP64 request") \
	X(refused_count, "requests for 0 events, or a heartbeat's or end of session's count") \
	X(refused_rate, "requests over their requester's rate") \
	X(refused_unknown, "requests for a session the log never saw") \
	X(refused_busy, "requests waiting for the log when every pending slot was taken") \
	X(late, "requests the log had not reached by the deadline: what existed was sent") \
	X(hinted, "reads of a request from the follower's point in the newest segment, not from the segment's start") \
	X(unsent, "events of answers not sent: bigger than an answer of --mtu carries, or the socket refused their packet")

struct weir_replay_serve_figures {
#define WEIR_REPLAY_FIGURE(name, help) uint64_t name;
	WEIR_REPLAY_SERVE_FIGURES(WEIR_REPLAY_FIGURE)
#undef WEIR_REPLAY_FIGURE
};

struct weir_replay_request {
	union weir_sockaddr who;
	uint8_t key[WEIR_SOURCE_BYTES];
	uint64_t first, deadline_ns;
	uint32_t count;
	bool read_whole;             /* read once without the follower's point */
};

struct weir_replay_server {
	int fd;
	struct weir_log_reader *reader;    /* the first topic's (followed) */
	struct weir_log_reader *also[WEIR_REPLAY_SERVE_TOPICS - 1]; /* the others': read from a source's numbers */
	unsigned n_also;
	const struct weir_log_reader *failed; /* the reader whose log failed a request */
	struct weir_replay_follow follow;  /* where the newest segment's numbers are */
	struct weir_replay_gather g;
	struct weir_replay_limiter limit;
	struct weir_replay_packer pk;
	uint32_t max_count;
	uint64_t deadline_ns;
	unsigned n_pending;
	struct weir_replay_request pending[WEIR_REPLAY_PENDING];
	struct weir_replay_serve_figures fig;
	uint64_t log_end;                  /* the committed end it serves up to, each 20 ms */
	bool by_sender;                    /* a log keyed by sender: requests are for this sender's sessions */
	uint8_t sender[6];                 /* its IPv4 address and port, as the key holds them */
};

/* Listens on "ADDRESS:PORT" for the reader's topic; 0, or -1 with err. */
int weir_replay_serve_open(struct weir_replay_server *s, const char *listen, uint32_t max_count, double rate,
			   double burst, uint64_t deadline_ns, uint32_t mtu, char *err, size_t errlen);
/* A log keyed by sender ("sequence key source+sender"): requests are
 * answered from the sessions of "IPV4:PORT".  0, or -1 with err. */
int weir_replay_serve_sender(struct weir_replay_server *s, const char *sender, char *err, size_t errlen);
/* Serves until *quit; 0, or -1 with err (the log failed). */
int weir_replay_serve_run(struct weir_replay_server *s, volatile int *quit, char *err, size_t errlen);
void weir_replay_serve_close(struct weir_replay_server *s);

#endif
