/* Polled UART: the libbase uart.h API in LiteX's own UART_POLLING form, linked ahead of libbase.
 *
 * libbase's interrupt-driven variant keeps a 128-byte RX ring filled by its ISR; when a host sends
 * more than that before the firmware reads, the ISR spins on a non-empty hardware FIFO that it may no
 * longer drain, and the console hangs. Polling keeps the UART's hardware back-pressure instead, so a
 * long or fast input line can never hang the console. Every symbol of libbase's uart.o is defined
 * here, so the archive member is not pulled in. */
#include <generated/csr.h>
#include <libbase/uart.h>

#include "console.h"

void uart_isr(void)
{
}

char uart_read(void)
{
	while (uart_rxempty_read())
		;
	char c = (char)uart_rxtx_read();
	uart_ev_pending_write(UART_EV_RX);
	return c;
}

int uart_read_nonblock(void)
{
	return uart_rxempty_read() == 0;
}

void uart_write(char c)
{
	while (uart_txfull_read())
		;
	uart_rxtx_write((unsigned char)c);
	uart_ev_pending_write(UART_EV_TX);
	console_tx_account(c);              /* the reply CRC of framed lines (console.h) */
}

void uart_init(void)
{
	uart_ev_pending_write(uart_ev_pending_read());
	uart_ev_enable_write(0);
}

void uart_sync(void)
{
	while (uart_txfull_read())
		;
}
