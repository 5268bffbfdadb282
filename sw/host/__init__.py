"""Host tool: drive the firmware's serial console over pyserial URLs (sim socket:// or a board's tty)."""
