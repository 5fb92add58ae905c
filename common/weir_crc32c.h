#ifndef WEIR_CRC32C_H
#define WEIR_CRC32C_H
#include <stddef.h>
#include <stdint.h>
#include <isa-l/crc.h>

/* CRC32C (Castagnoli, as iSCSI/ext4/Kafka use it): ISA-L computes it with
 * the SSE4.2/PCLMUL instructions; it returns the register un-inverted. */
static inline uint32_t
weir_crc32c(const void *buf, size_t len)
{
	return ~crc32_iscsi((unsigned char *)(uintptr_t)buf, (int)len, 0xFFFFFFFFu);
}
#endif
