/* weir's own DPDK telemetry command, beside DPDK's: dpdk-telemetry.py -f PREFIX. */
#ifndef WEIR_TELEMETRY_H
#define WEIR_TELEMETRY_H

#include "weir_info.h"

/* Registers "/weir/counters[,WORKER]" over info; 0 when registered. */
int weir_telemetry_register(const struct weir_info *info);

#endif
