#!/bin/sh
# SPDX-License-Identifier: MIT
# Run a test in a private network namespace whose only interface is loopback, so that whatever
# the code under test does (a policy bug, a forged X-Forwarded-For), no packet can leave this
# machine: defence in depth for tests that feed refused or foreign addresses on purpose.
# As root: unshare -n; otherwise a user namespace too (unshare -rn). Exit 77 (skip) if neither
# is possible here.
# Usage: tests/isolated.sh COMMAND [ARGS...]
inner='ip link set lo up || exit 77; exec "$@"'
if [ "$(id -u)" = 0 ]; then
	unshare -n true 2>/dev/null && exec unshare -n sh -c "$inner" sh "$@"
else
	unshare -rn true 2>/dev/null && exec unshare -rn sh -c "$inner" sh "$@"
fi
echo "SKIP: cannot create a private network namespace here" >&2
exit 77
