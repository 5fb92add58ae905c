/* What weir-export's files share (export/). */
#ifndef WEIR_EXPORT_PVT_H
#define WEIR_EXPORT_PVT_H

#include "weir_export.h"
#include "weir_export_map.h"

/* weir_export_kafka.c */
rd_kafka_conf_t *weir_export_conf(const struct weir_config *cfg, const char *file, bool producer, char *err,
				  size_t errlen);
int weir_export_create_topics(struct weir_exporter *x, char *err, size_t errlen);
int weir_export_partitions(rd_kafka_t *rk, const char *topic);
int weir_export_read_positions(struct weir_exporter *x, char *err, size_t errlen);
void weir_export_count_error(struct weir_exporter *x, int code);

/* weir_export.c: rec into topic's partition (RD_KAFKA_PARTITION_UA: by
 * its key) in the open transaction, waiting out a full local queue; timed:
 * its delivery goes into the produce latency.  0, or -1 refused. */
int weir_export_send(struct weir_exporter *x, const char *topic, int32_t partition,
		     const struct weir_export_record *rec, bool timed);

/* weir_export_holes.c: offsets never shipped, said in Kafka. */
/* Hard retention deleted from..to-1 unshipped: said once, stated in Kafka
 * by the next transaction that commits, and counted when it does. */
void weir_export_deleted(struct weir_export_topic_state *t, uint64_t from, uint64_t to);
/* Before the entry at next is produced (in the open transaction): what
 * retention deleted and not yet stated, and salvage's hole between pending
 * and next.  0, or -1 when Kafka refused (the transaction must abort). */
int weir_export_state_holes(struct weir_exporter *x, struct weir_export_topic_state *t, uint64_t next);
void weir_export_holes_committed(struct weir_export_topic_state *t);
void weir_export_holes_aborted(struct weir_export_topic_state *t);

#endif
