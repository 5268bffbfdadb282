/* Run-time uploads over LiteX's serial boot frames (see upload.h). A frame whose bytes stop arriving for
 * UPLOAD_GAP_MS is dropped without an answer: the host resends it after its ack timeout, and the next
 * frame starts aligned. A frame with a bad CRC gets 'C' (resend), one outside the region 'E', an unknown
 * command 'U'; a good load frame is written and acked with 'K'; an abort frame ('K') ends the upload. */
#include <string.h>

#include <generated/csr.h>
#include <generated/soc.h>
#include <libbase/crc.h>
#include <libbase/uart.h>

#include "upload.h"

#define UPLOAD_GAP_MS 20
#define SFL_ABORT     0x00
#define SFL_LOAD      0x01

static uint64_t uptime(void)
{
	timer0_uptime_latch_write(1);
	return timer0_uptime_cycles_read();
}

static int read_by(uint64_t deadline)
{
	while (!uart_read_nonblock())
		if (uptime() > deadline)
			return -1;
	return (uint8_t)uart_read();
}

int upload_receive(uint32_t addr, uint32_t len, unsigned idle_s, const char **why)
{
	static uint8_t f[4 + 255];
	const uint64_t gap = (uint64_t)CONFIG_CLOCK_FREQUENCY / 1000 * UPLOAD_GAP_MS;
	const uint64_t idle = (uint64_t)CONFIG_CLOCK_FREQUENCY * idle_s;
	for (;;) {
		int c = read_by(uptime() + idle);
		if (c < 0) {
			*why = "no frame from the host for too long: upload abandoned";
			return -1;
		}
		f[0] = (uint8_t)c;
		unsigned i, n = 4u + f[0];
		for (i = 1; i < n && (c = read_by(uptime() + gap)) >= 0; i++)
			f[i] = (uint8_t)c;
		if (i < n)
			continue;                          /* broken frame: no answer, the host resends */
		if (crc16(&f[3], f[0] + 1) != (f[1] << 8 | f[2])) {
			uart_write('C');
			continue;
		}
		if (f[3] == SFL_ABORT) {
			uart_write('K');
			return 0;
		}
		if (f[3] != SFL_LOAD || f[0] < 4) {
			uart_write('U');
			continue;
		}
		uint32_t a = (uint32_t)f[4] << 24 | (uint32_t)f[5] << 16 | (uint32_t)f[6] << 8 | f[7], k = f[0] - 4u;
		if (a < addr || (uint64_t)a + k > (uint64_t)addr + len) {
			uart_write('E');
			continue;
		}
		memcpy((void *)(uintptr_t)a, &f[8], k);
		uart_write('K');
	}
}
