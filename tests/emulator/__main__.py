"""``python -m tests.emulator [--port 8765]``: run the vivo emulator by hand."""

from tests.emulator.vivo_emulator import main

main()
