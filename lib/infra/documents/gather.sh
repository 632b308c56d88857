#!/bin/sh
# fleetscan gather: prints the gather report, version 1, exactly as lib/core/report.ts defines it.
# Read-only. Runs as root under the SSM agent on every targeted node at each scan, so it stays small and fast:
# no /proc/pagetypeinfo (it walks every page block with the zone lock held), one awk per source file, no padding
# in the output so that hosts with up to 8 NUMA nodes fit the 2,500 characters ListCommandInvocations returns.
# POSIX sh on purpose: the agent may hand the script to sh, and dash, bash and busybox all run it.
#
# FLEETSCAN_ROOT re-roots /proc for tests against fixture trees. It is an environment variable of the process,
# never a document parameter, so nothing sent through SSM can point the script elsewhere.
root="${FLEETSCAN_ROOT:-}"
status=0
nl='
'
log_unreadable='fleetscan: kernel log unreadable'

# Runs "$@" with a time limit where coreutils' timeout exists, so a slow journal cannot hold the scan.
bounded() {
  seconds=$1
  shift
  if command -v timeout >/dev/null 2>&1; then
    timeout "$seconds" "$@"
  else
    "$@"
  fi
}

# Prints the first line of a file; empty when unreadable. The rest is dropped so that a host name with an
# embedded newline cannot forge report lines.
first_line() {
  line=''
  { IFS= read -r line <"$1"; } 2>/dev/null
  printf '%s' "$line"
}

# dmesg reads the kernel ring buffer (bounded by its size); journalctl -k is the fallback where dmesg is
# restricted or missing. The marker line tells awk that neither could be read.
kernel_log() {
  bounded 2 dmesg 2>/dev/null && return 0
  bounded 3 journalctl -k -b -q --no-pager -o cat 2>/dev/null && return 0
  printf '%s\n' "$log_unreadable"
}

host=$(first_line "$root/proc/sys/kernel/hostname")
[ -n "$host" ] || host=$(uname -n 2>/dev/null)
kernel=$(first_line "$root/proc/sys/kernel/osrelease")
[ -n "$kernel" ] || kernel=$(uname -r 2>/dev/null)
pagesize=$(getconf PAGESIZE 2>/dev/null) || pagesize=''

printf 'fleetscan-gather 1\n'
printf 'host %s\n' "${host%%"$nl"*}"
printf 'kernel %s\n' "${kernel%%"$nl"*}"
case "$pagesize" in
  '' | *[!0-9]*) status=1 ;;
  *) printf 'pagesize %s\n' "$pagesize" ;;
esac

if [ -r "$root/proc/meminfo" ]; then
  awk '
    $1 == "MemTotal:" && $2 ~ /^[0-9]+$/ { total = $2 }
    $1 == "MemAvailable:" && $2 ~ /^[0-9]+$/ { available = $2 }
    END { printf "meminfo %s %s\n", (total == "" ? "-" : total), (available == "" ? "-" : available) }
  ' "$root/proc/meminfo"
else
  printf 'meminfo - -\n'
fi

kernel_log | awk -v unreadable="$log_unreadable" '
  BEGIN { count = 0; highest = -1 }
  $0 == unreadable { blind = 1; next }
  match($0, /page allocation failure: order:[0-9]+/) {
    order = substr($0, RSTART + 31, RLENGTH - 31) + 0
    count++
    if (order > highest) highest = order
  }
  END {
    if (blind) print "allocfail unknown"
    else if (count == 0) print "allocfail 0 -"
    else print "allocfail " count " " highest
  }
'

# "Node 0, zone   Normal   4381 1093 ..." becomes "zone 0 Normal 4381 1093 ...".
if ! awk '
  $1 == "Node" && $3 == "zone" {
    node = $2
    sub(/,$/, "", node)
    row = "zone " node " " $4
    for (i = 5; i <= NF; i++) row = row " " $i
    print row
    rows++
  }
  END { exit (rows == 0 ? 1 : 0) }
' "$root/proc/buddyinfo" 2>/dev/null; then
  printf 'fleetscan-gather: cannot read %s/proc/buddyinfo\n' "$root" >&2
  status=1
fi

printf 'end\n'
exit "$status"
