/* `put <addr> <len>`: receive data into main RAM at run time over LiteX's serial boot frames (SFL:
 * length, CRC-16, command, payload = big-endian address + data; acks K/C/E/U as the BIOS sends them),
 * without a reboot. docs/firmware.md "Uploads". */
#ifndef UPLOAD_H
#define UPLOAD_H

#include <stdint.h>

/* Receive SFL load frames into [addr, addr+len) until an abort frame; 0, or -1 after `idle_s` seconds
 * without a frame (then *why says so). */
int upload_receive(uint32_t addr, uint32_t len, unsigned idle_s, const char **why);

#endif
