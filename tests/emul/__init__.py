# SPDX-License-Identifier: MIT
"""The emulators of the probe tests, in one place (docs/internals/TESTING.md):

- emul.py: scripted TCP peers for the SSH, Telnet, RDP and VNC probes (and hostile peers);
- smb_emul.py: the SMB EMULATOR (MS17-010 unpatched / patched, DoublePulsar, NetBIOS answers);
- db_emul.py (MongoDB, Elasticsearch), nas_emul.py (NAS admin pages), udp_emul.py (UDP peers);
- common.py: what the emulators and the tests that drive them share (connection with drip and
  close-at, listen and accept loop, the emulators' command line; checks, a throw-away
  certificate, waiting for a port, `exposure check --json` of one check);
- make_captures.py, make_smb_captures.py: write the hand-made captures of tests/data
  (emul-*.bin), the bytes no real server in the lab produces.

Each file runs as a script; tests import emul, smb_emul and common with this folder on sys.path.
"""
