# SPDX-License-Identifier: MIT
"""The emulators of the probe tests, in one place (docs/internals/TESTING.md):

- emul.py: scripted TCP peers for the SSH, Telnet, RDP and VNC probes (and hostile peers);
- smb_emul.py: the SMB EMULATOR (MS17-010 unpatched / patched, DoublePulsar, NetBIOS answers);
- make_captures.py, make_smb_captures.py: write the hand-made captures of tests/data
  (emul-*.bin), the bytes no real server in the lab produces.

Each file runs as a script; tests import emul and smb_emul with this folder on sys.path.
"""
