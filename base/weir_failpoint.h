/*
 * Failpoints: named points where a process kills itself (SIGKILL, as from
 * outside) when told to, so a fault explorer can crash it at an awkward
 * moment exactly, not by luck of timing: WEIR_FAILPOINT=NAME:N dies at the
 * Nth pass of point NAME (from 1).  Unset, a pass costs one branch; points
 * sit on commits and rolls, never per record.
 */
#ifndef WEIR_FAILPOINT_H
#define WEIR_FAILPOINT_H

void weir_failpoint(const char *name);

#endif
