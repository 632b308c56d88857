#!/bin/sh
# fleetscan gather: prints the gather report, version 2, exactly as lib/core/report.ts defines it.
# Read-only. Runs as root under the SSM agent on every targeted node at each scan, so it stays small and fast:
# one awk per source file, every slow source bounded in time, no padding in the output, so that a typical host fits
# the 2,500 characters ListCommandInvocations returns (docs/diagnosis.md has the measured sizes).
# POSIX sh on purpose: the agent may hand the script to sh, and dash, bash and busybox all run it.
#
# SSM splices the document parameter textually into the assignment below. Its allowedPattern admits digits only,
# so the single quotes keep it data; the case statement checks it again because this file must not depend on its
# caller for its safety. It is the previous scan's time (epoch seconds), or 0: count failures since boot.
since='{{ since }}'

# FLEETSCAN_ROOT re-roots /proc and /sys for tests against fixture trees. It is an environment variable of the
# process, never a document parameter, so nothing sent through SSM can point the script elsewhere.
root="${FLEETSCAN_ROOT:-}"
status=0
nl='
'

case "$since" in
  '' | *[!0-9]* | 0?*)
    printf 'fleetscan-gather: since must be epoch seconds without leading zeros, or 0\n' >&2
    exit 2
    ;;
esac
if [ "${#since}" -gt 12 ]; then
  printf 'fleetscan-gather: since has more than 12 digits\n' >&2
  exit 2
fi

# Runs "$@" with a time limit where coreutils' timeout exists, so a slow source cannot hold the scan.
bounded() {
  seconds=$1
  shift
  if command -v timeout >/dev/null 2>&1; then
    timeout "$seconds" "$@"
  else
    "$@"
  fi
}

# The first word of a file, read by awk: dash's read builtin takes one byte per read(2), and the kernel's numeric
# sysctl files answer a read at a non-zero offset with end-of-file (proc_dointvec), so `read` would see "5" of 500.
first_word() {
  awk 'NR == 1 { print $1; exit }' "$1" 2>/dev/null
}

# Prints the first line of a file; empty when unreadable. The rest is dropped so that a value with an embedded
# newline (a host name) cannot forge report lines.
first_line() {
  line=''
  { IFS= read -r line <"$1"; } 2>/dev/null
  printf '%s' "$line"
}

host=$(first_line "$root/proc/sys/kernel/hostname")
[ -n "$host" ] || host=$(uname -n 2>/dev/null)
kernel=$(first_line "$root/proc/sys/kernel/osrelease")
[ -n "$kernel" ] || kernel=$(uname -r 2>/dev/null)
pagesize=$(getconf PAGESIZE 2>/dev/null) || pagesize=''
btime=$(awk '$1 == "btime" && $2 ~ /^[0-9]+$/ { print $2; exit }' "$root/proc/stat" 2>/dev/null)

printf 'fleetscan-gather 2\n'
printf 'host %s\n' "${host%%"$nl"*}"
printf 'kernel %s\n' "${kernel%%"$nl"*}"
case "$pagesize" in
  '' | *[!0-9]*) status=1 ;;
  *) printf 'pagesize %s\n' "$pagesize" ;;
esac

if [ -r "$root/proc/meminfo" ]; then
  awk '
    function v(x) { return x == "" ? "-" : x }
    $2 !~ /^[0-9]+$/ { next }
    $1 == "MemTotal:" { total = $2 }
    $1 == "MemAvailable:" { available = $2 }
    $1 == "MemFree:" { free = $2 }
    $1 == "SReclaimable:" { sreclaimable = $2 }
    END { print "meminfo " v(total) " " v(available) " " v(free) " " v(sreclaimable) }
  ' "$root/proc/meminfo"
else
  printf 'meminfo - - - -\n'
fi

bootid=$(first_line "$root/proc/sys/kernel/random/boot_id")
case "$bootid" in
  '' | *[!0-9a-f-]*) printf 'bootid -\n' ;;
  *) printf 'bootid %s\n' "$bootid" ;;
esac
awk '{ split($1, s, "."); if (s[1] ~ /^[0-9]+$/) up = s[1] } END { print "uptime " (up == "" ? "-" : up) }' \
  "$root/proc/uptime" 2>/dev/null || printf 'uptime -\n'
cpus=$(awk '$1 ~ /^cpu[0-9]+$/ { n++ } END { print n + 0 }' "$root/proc/stat" 2>/dev/null)
awk -v cpus="${cpus:-0}" '
  NR == 1 && $1 ~ /^[0-9]+\.[0-9][0-9]$/ && $2 ~ /^[0-9]+\.[0-9][0-9]$/ && $3 ~ /^[0-9]+\.[0-9][0-9]$/ && cpus > 0 {
    line = "load " $1 " " $2 " " $3 " " cpus
  }
  END { print (line == "" ? "load -" : line) }
' "$root/proc/loadavg" 2>/dev/null || printf 'load -\n'

# The kernel log, scanned for `page allocation failure` lines at or after $since by the log's own clock: dmesg and
# `journalctl -o short-monotonic` both print seconds since boot, and btime (/proc/stat) turns them into epoch
# seconds. A reboot since the previous scan needs nothing special: the log then starts after $since.
# Each source is read once, through one awk, in a time bound. The end marker is printed on a line of its own
# (after a newline, so never glued to a line the bound cut) and carries the reader's exit status: 124 (timeout) or
# any failure after output means the scan was cut and the count is unknown. Only a source that printed nothing is
# replaced by the next one, so no failure is ever counted twice.
log_end='fleetscan-log-end'
# shellcheck disable=SC2016 # $0, $1... are awk's, not the shell's
scan_log_awk='
  function allocator(name) {
    return name ~ /^(dump_stack|dump_stack_lvl|show_stack|warn_alloc|warn_alloc_failed|__warn_alloc)$/ ||
      name ~ /^_*(alloc_pages|alloc_pages_current|alloc_pages_nodemask|alloc_pages_slowpath|alloc_pages_noprof|get_free_pages|get_zeroed_page|folio_alloc)/ ||
      name ~ /^_*(kmalloc|kvmalloc|kvzalloc|kvcalloc|vmalloc|kmem_cache_alloc|cache_grow|cache_alloc|slab_alloc|new_slab|allocate_slab|alloc_slab_page|kmem_getpages|fallback_alloc|memcg_alloc_cache_params|do_kmem_cache_create|kmem_cache_create_memcg)/
  }
  function keep(word) {
    gsub(/[^A-Za-z0-9_.:\/@+\[\]-]/, "_", word)
    return substr(word, 1, 16)
  }
  BEGIN { highest = -1; lines = 0; rc = ""; frames_left = 0 }
  index($0, marker " ") == 1 { rc = substr($0, length(marker) + 2); exit }
  $0 == "" { next }
  {
    lines++
    msg = $0
    sub(/^<[0-9]+>/, "", msg)
    if (match(msg, /^\[ *[0-9]+\.[0-9]+\] ?/)) {
      stamp = substr(msg, 2, RLENGTH - 2)
      sub(/\] ?$/, "", stamp)
      sub(/^ +/, "", stamp)
      msg = substr(msg, RLENGTH + 1)
      timed = 1
    } else {
      timed = 0
    }
    if (src == "journal") sub(/^[^ ]+ kernel: /, "", msg)
  }
  match(msg, /page allocation failure[:.] order:[0-9]+/) {
    frames_left = 0
    if (since > 0) {
      if (!timed || btime == "") { untimed = 1; next }
      split(stamp, whole, ".")
      if (btime + whole[1] < since) next
    }
    at = index(msg, "page allocation failure")
    order = substr(msg, RSTART + 31, RLENGTH - 31) + 0
    count++
    if (order > highest) highest = order
    comm = substr(msg, 1, at - 1)
    sub(/: *$/, "", comm)
    sub(/^ +/, "", comm)
    comm = keep(comm)
    if (comm != "") {
      if (!(comm in worst)) {
        if (names < 5) { names++; name_list[names] = comm; worst[comm] = order }
      } else if (order > worst[comm]) {
        worst[comm] = order
      }
    }
    frames_left = 40
    frames_kept = 0
    next
  }
  frames_left > 0 {
    frames_left--
    if (msg ~ /Mem-Info:|<\/TASK>|end trace/) { frames_left = 0; next }
    n = split(msg, w, " ")
    i = 1
    if (w[i] ~ /^\[<[0-9a-f]+>\]$/) i++
    if (w[i] == "?" || w[i] !~ /^[A-Za-z_][A-Za-z0-9_.]*\+0x[0-9a-f]+\/0x[0-9a-f]+$/) next
    fn = w[i]
    sub(/\+.*$/, "", fn)
    sub(/\..*$/, "", fn)
    if (allocator(fn) || frames_kept >= 3) next
    frames_kept++
    if (w[n] ~ /^\[[A-Za-z0-9_-]+\]$/ && n > i) fn = fn w[n]
    if (!(fn in seen_site) && sites < 6) { seen_site[fn] = 1; sites++; site_list[sites] = fn }
  }
  END {
    if (rc == "") rc = 1
    if (rc != 0 && lines == 0) { print "klog " src " unreadable " since; exit }
    state = rc != 0 ? "cut" : untimed ? "untimed" : "complete"
    print "klog " src " " state " " since
    if (state != "complete") { print "allocfail unknown"; exit }
    if (count == 0) { print "allocfail 0 -"; exit }
    line = "allocfail " count " " highest
    for (k = 1; k <= names; k++) line = line " " name_list[k] ":" worst[name_list[k]]
    print line
    if (sites > 0) {
      line = "allocsite"
      for (k = 1; k <= sites; k++) line = line " " site_list[k]
      print line
    }
  }
'

# scan_log SOURCE SECONDS COMMAND...: the awk above over one bounded reading of COMMAND.
scan_log() {
  src=$1
  seconds=$2
  shift 2
  {
    bounded "$seconds" "$@" 2>/dev/null
    printf '\n%s %s\n' "$log_end" "$?"
  } | awk -v src="$src" -v since="$since" -v btime="$btime" -v marker="$log_end" "$scan_log_awk"
}

log_report=$(scan_log dmesg 2 dmesg)
case "$log_report" in
  'klog dmesg unreadable'*) log_report=$(scan_log journal 3 journalctl -k -b -q --no-pager -o short-monotonic) ;;
esac
case "$log_report" in
  'klog journal unreadable'*) log_report="klog none unreadable $since${nl}allocfail unknown" ;;
esac
printf '%s\n' "$log_report"

# Cumulative counters: the collector judges their deltas between scans (a reboot resets them; bootid tells).
# Before 4.8 the kernel had one allocstall counter; since then one per zone.
awk '
  $1 ~ /^(compact_(stall|fail|success|migrate_scanned|free_scanned|daemon_wake)|allocstall(_[a-z0-9]+)?|pgmajfault|pgscan_direct)$/ && $2 ~ /^[0-9]+$/ {
    line = line " " $1 "=" $2
  }
  END { print "vmstat" (line == "" ? " -" : line) }
' "$root/proc/vmstat" 2>/dev/null || printf 'vmstat -\n'

sysctl_line='sysctl'
for name in compaction_proactiveness extfrag_threshold min_free_kbytes watermark_scale_factor; do
  value=$(first_word "$root/proc/sys/vm/$name")
  case "$value" in
    '' | *[!0-9]*) value='-' ;;
  esac
  sysctl_line="$sysctl_line $name=$value"
done
printf '%s\n' "$sysctl_line"

# "always [madvise] never": the bracketed word is the mode in force.
thp_mode() {
  awk 'NR == 1 { for (i = 1; i <= NF; i++) if ($i ~ /^\[[a-z+]+\]$/) { gsub(/[][]/, "", $i); print $i; exit } }' \
    "$root/sys/kernel/mm/transparent_hugepage/$1" 2>/dev/null
}
thp_enabled=$(thp_mode enabled)
thp_defrag=$(thp_mode defrag)
printf 'thp %s %s\n' "${thp_enabled:--}" "${thp_defrag:--}"

# kcompactdN threads: their state letter is the third field of /proc/PID/stat, after the parenthesised comm.
# grep, not awk, reads the comm files: a process that exits meanwhile must not end the search.
kcompactd_states() {
  grep -lx 'kcompactd[0-9][0-9]*' "$root"/proc/[0-9]*/comm 2>/dev/null | while IFS= read -r comm; do
    name=$(first_line "$comm")
    state=$(awk '{ sub(/^.*\) /, ""); print $1; exit }' "${comm%comm}stat" 2>/dev/null)
    case "$state" in
      [A-Za-z]) ;;
      *) state='?' ;;
    esac
    printf ' %s:%s' "${name#kcompactd}" "$state"
  done
}
kcompactd=$(kcompactd_states)
printf 'kcompactd%s\n' "${kcompactd:- -}"

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

# /proc/pagetypeinfo (root only; some kernels lack it): the pageblocks of each migrate type, and the free pages on
# each type's free lists. Since 5.4 the kernel stops counting a free list at 100000 entries and prints ">100000"
# (mm/vmstat.c, pagetypeinfo_showfree_print); such a sum is printed as ">N", a lower bound. It is read in full into
# a variable first, in a time bound, so that a slow or stuck read prints "pagetypes unknown" instead of half a table.
# shellcheck disable=SC2016 # awk's fields
pagetypes_awk='
  /^Free pages count per migrate type at order/ { section = "free"; norders = 0; for (i = 9; i <= NF; i++) ord[norders++] = $i; next }
  /^Number of blocks type/ { section = "blocks"; ntypes = 0; for (i = 5; i <= NF; i++) types[++ntypes] = $i; next }
  /^Number of/ { section = ""; next }
  section == "free" && $1 == "Node" && $5 == "type" {
    node = $2; sub(/,$/, "", node); zone = $4; sub(/,$/, "", zone)
    key = node " " zone
    if (!(key in zseen)) { zseen[key] = 1; zorder[++nzones] = key }
    sum = 0; cap = ""
    for (i = 7; i <= NF; i++) {
      c = $i
      if (c ~ /^>/) { cap = ">"; sub(/^>/, "", c) }
      sum += c * 2 ^ ord[i - 7]
    }
    free[key, $6] = cap sprintf("%.0f", sum)
    next
  }
  section == "blocks" && $1 == "Node" && $3 == "zone" {
    node = $2; sub(/,$/, "", node)
    key = node " " $4
    if (!(key in zseen)) { zseen[key] = 1; zorder[++nzones] = key }
    row = ""
    for (i = 5; i <= NF; i++) row = row " " $i
    blocks[key] = row
  }
  END {
    if (ntypes == 0) exit 1
    line = "pagetypes"
    for (t = 1; t <= ntypes; t++) line = line " " types[t]
    print line
    for (z = 1; z <= nzones; z++) if (zorder[z] in blocks) print "pageblocks " zorder[z] blocks[zorder[z]]
    for (z = 1; z <= nzones; z++) {
      key = zorder[z]
      if (!(key in blocks) || !((key, types[1]) in free)) continue
      line = "freepages " key
      for (t = 1; t <= ntypes; t++) line = line " " ((key, types[t]) in free ? free[key, types[t]] : 0)
      print line
    }
  }
'
if pagetypes=$(bounded 2 awk "$pagetypes_awk" "$root/proc/pagetypeinfo" 2>/dev/null) && [ -n "$pagetypes" ]; then
  printf '%s\n' "$pagetypes"
else
  printf 'pagetypes unknown\n'
fi

printf 'end\n'
exit "$status"
