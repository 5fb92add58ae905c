/* What weir-export's files share (export/). */
#ifndef WEIR_EXPORT_PVT_H
#define WEIR_EXPORT_PVT_H

#include "weir_export.h"

/* weir_export_kafka.c */
rd_kafka_conf_t *weir_export_conf(const struct weir_config *cfg, const char *file, bool producer, char *err,
				  size_t errlen);
int weir_export_create_topics(struct weir_exporter *x, char *err, size_t errlen);
int weir_export_partitions(rd_kafka_t *rk, const char *topic);
int weir_export_read_positions(struct weir_exporter *x, char *err, size_t errlen);
void weir_export_count_error(struct weir_exporter *x, int code);

#endif
