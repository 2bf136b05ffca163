/* The IO buffer and a small parameter area shared with JS. */
#include "common.h"

static uint8_t io_buffer[MS_IO_BYTES] __attribute__((aligned(4096)));
/* Parameters and results that do not live in the IO buffer (parent CVs, digests). */
static uint8_t param_area[4096] __attribute__((aligned(64)));

EXPORT(ms_io_buffer) uint8_t *ms_io_buffer(void) { return io_buffer; }
EXPORT(ms_io_bytes) uint32_t ms_io_bytes(void) { return MS_IO_BYTES; }
EXPORT(ms_lanes) uint32_t ms_lanes(void) { return MS_LANES; }
EXPORT(ms_param_area) uint8_t *ms_param_area(void) { return param_area; }
/* ABI version: bump when an export changes meaning, so the JS loader refuses a stale module. */
EXPORT(ms_abi_version) uint32_t ms_abi_version(void) { return 1; }
