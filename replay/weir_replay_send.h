/*
 * weir-replay send: a topic of the log back onto the wire, each source in its
 * own framing (MoldUDP64 or weir frames), in log order, at the recorded pace
 * scaled by a speed (0: as fast as it goes).  What the log says was lost is not invented: a LOSS record is a
 * hole the replay passes over and counts.  An end of session is sent again.
 */
#ifndef WEIR_REPLAY_SEND_H
#define WEIR_REPLAY_SEND_H

#include <stdbool.h>
#include <stdint.h>

#include "weir_hist.h"
#include "weir_log_reader.h"
#include "weir_record.h"
#include "weir_replay_idle.h"
#include "weir_replay_out.h"
#include "weir_replay_pack.h"
#include "weir_replay_senders.h"

#define WEIR_REPLAY_MAX_SOURCES 128 /* keys: each name space and NUL padded */

struct weir_replay_range {
	enum { WEIR_REPLAY_FROM_FIRST, WEIR_REPLAY_FROM_OFFSET, WEIR_REPLAY_FROM_TIME, WEIR_REPLAY_FROM_SEQ } from;
	uint64_t from_offset, from_ns, from_seq;
	uint8_t from_source[WEIR_SOURCE_BYTES];
	uint64_t until_offset;       /* exclusive; 0: the committed end */
	uint64_t until_ns;           /* rx time; 0: none */
	uint64_t count;              /* events; 0: no bound */
	unsigned n_sources;          /* 0: every source */
	uint8_t sources[WEIR_REPLAY_MAX_SOURCES][WEIR_SOURCE_BYTES];
};

struct weir_replay_summary {
	uint64_t packets, events, bytes, ends;
	uint64_t heartbeats;               /* sent while idle */
	uint64_t holes, hole_events;       /* LOSS records passed over, and the events they state lost */
	uint64_t offsets_lost;             /* offsets of the range the log no longer holds (salvage's holes, hard
					    * retention): whatever they held was never sent */
	uint64_t too_big;                  /* events no packet of --mtu could carry */
	uint64_t first_offset, next_offset;
	uint64_t bytes_behind;             /* log between the replay and the committed end, each second */
	struct weir_hist pacing;           /* send time minus due time (paced sockets) */
};

/* A packet handed to the output, which may not have left yet (a port's burst). */
struct weir_replay_handed {
	uint64_t first_offset;             /* its first entry's; UINT64_MAX: a heartbeat */
	uint32_t bytes;
	uint16_t count;                    /* its packet's count: events, or a control packet's code */
};

#define WEIR_REPLAY_HANDED 1024        /* more than a port's burst: every packet that may not have left */

struct weir_replay_send {
	struct weir_log_reader *reader;
	struct weir_replay_out *out;
	struct weir_replay_packer pk;
	struct weir_replay_range range;
	double speed;                      /* 1: as recorded; 0: as fast as it goes */
	bool progress;                     /* a line a second on stderr */
	volatile int *quit;
	struct weir_replay_summary sum;
	/* pacing: the first packet's rx time and when it went */
	uint64_t rx0_ns, mono0_ns;
	uint64_t next_progress_ns, since_progress;
	uint64_t run_ns;                   /* how long weir_replay_run took, timed where it ran */
	struct weir_replay_idle idle;      /* idle.every_ns 0: no heartbeats */
	struct weir_replay_senders senders; /* a log keyed by sender: one sender a session name */
	/* What the summary may say went: events count when handed over, and
	 * an error takes back what never left.  next_offset is where a replay
	 * would resume losing nothing: the open packet's first entry, else one
	 * past the last entry read. */
	uint64_t packed;                   /* events packed: what --count bounds */
	uint64_t open_offset;              /* the open packet's first entry */
	uint64_t read_to;                  /* one past the last entry read */
	uint64_t n_handed;
	struct weir_replay_handed handed[WEIR_REPLAY_HANDED];
};

/* Seeks to the range's start: 1 there, 0 nothing in range, -1 error (err). */
int weir_replay_seek(struct weir_replay_send *s, char *err, size_t errlen);
/* Waits until the packet recorded at rx_ns is due (the first packet sets the
 * clock; a pcap or speed 0 never waits); its lateness goes to the pacing
 * histogram.  false: a signal cut the wait short (the packet is not sent
 * early, nor its wait counted). */
bool weir_replay_pace(struct weir_replay_send *s, uint64_t rx_ns);
/* Sends the range: 0 done, -1 error (err). */
int weir_replay_run(struct weir_replay_send *s, char *err, size_t errlen);

#endif
