#!/bin/sh
# fleetscan remediate: checks the node, measures buddyinfo, acts, lets the kernel settle, measures again, and prints
# the remediation report, version 2, exactly as lib/core/report.ts defines it. With dryRun=true it writes nothing
# anywhere (not even sync): every step only checks that its target exists and prints dry-run.
#
# Right before acting it checks what could make acting harmful or pointless now (after kubewharf/katalyst-core's
# fragmem handler): load per CPU above maxLoadPerCpu; for compaction, kcompactd of the node(s) already running (R)
# or in uninterruptible sleep (D), or vm.compaction_proactiveness above maxProactiveness (the kernel compacts by
# itself). A check that holds the action back prints `skipped` steps naming it: not a failure.
#
# SSM splices the document parameters textually into the three assignments below. allowedValues/allowedPattern
# are enforced before the command starts and admit no quote, so the single quotes keep each value data; the case
# statements check them again because this file must not depend on its caller for its safety.
action='{{ action }}'
numa_node='{{ numaNode }}'
dry_run='{{ dryRun }}'
max_load_per_cpu='{{ maxLoadPerCpu }}'
max_proactiveness='{{ maxProactiveness }}'
settle_seconds='{{ settleSeconds }}'

# FLEETSCAN_ROOT re-roots /proc and /sys for tests against fixture trees. It is an environment variable of the
# process, never a document parameter, so nothing sent through SSM can redirect the writes.
root="${FLEETSCAN_ROOT:-}"

reject() {
  printf 'fleetscan-remediate: %s\n' "$1" >&2
  exit 2
}

case "$action" in
  drop-caches | compact | compact-node | drop-caches-and-compact) ;;
  *) reject 'action must be one of drop-caches, compact, compact-node, drop-caches-and-compact' ;;
esac
case "$numa_node" in
  all | [0-9] | [1-9][0-9] | [1-9][0-9][0-9]) ;;
  *) reject "numaNode must be 'all' or a node id from 0 to 999 without leading zeros" ;;
esac
case "$dry_run" in
  true | false) ;;
  *) reject "dryRun must be 'true' or 'false'" ;;
esac
case "$max_load_per_cpu" in
  [0-9] | [1-9][0-9] | [1-9][0-9][0-9] | [0-9].[0-9] | [0-9].[0-9][0-9] | [1-9][0-9].[0-9] | [1-9][0-9].[0-9][0-9]) ;;
  *) reject 'maxLoadPerCpu must be a number from 0 to 999 with at most two decimals' ;;
esac
case "$max_proactiveness" in
  [0-9] | [1-9][0-9] | 100) ;;
  *) reject 'maxProactiveness must be a whole number from 0 to 100' ;;
esac
case "$settle_seconds" in
  [0-9] | [1-9][0-9] | [1-2][0-9][0-9] | 300) ;;
  *) reject 'settleSeconds must be a whole number from 0 to 300' ;;
esac

status=0
failed=0
# The precheck that holds the action back (precheck-load, ...), empty when none does.
blocked=''
# Whether a step wrote something: only then is there an effect to let settle.
wrote=0
nl='
'

zones() {
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
    printf 'fleetscan-remediate: cannot read %s/proc/buddyinfo\n' "$root" >&2
    status=1
    # Acting without a measurement would be acting blind, and its effect could not be told.
    failed=1
  fi
}

# Writes $3 into the kernel file $2 as step $1. After a failed step the remaining ones are skipped: something on
# this node is not as expected, and the next step is the more disruptive one.
write_step() {
  name=$1
  file=$2
  value=$3
  if [ -n "$blocked" ]; then
    result=skipped
  elif [ "$failed" = 1 ]; then
    result=skipped
  elif [ ! -e "$file" ]; then
    printf 'fleetscan-remediate: %s: %s does not exist\n' "$name" "$file" >&2
    result=failed
  elif [ "$dry_run" = true ]; then
    result=dry-run
  elif { printf '%s\n' "$value" >"$file"; } 2>/dev/null; then
    result=ok
    wrote=1
  else
    printf 'fleetscan-remediate: %s: cannot write %s to %s\n' "$name" "$value" "$file" >&2
    result=failed
  fi
  finish_step "$name" "$result"
}

sync_step() {
  if [ -n "$blocked" ]; then
    result=skipped
  elif [ "$failed" = 1 ]; then
    result=skipped
  elif [ "$dry_run" = true ]; then
    result=dry-run
  elif sync; then
    result=ok
  else
    result=failed
  fi
  finish_step sync "$result"
}

finish_step() {
  if [ "$2" = failed ]; then
    failed=1
    status=1
  fi
  if [ "$2" = skipped ] && [ -n "$blocked" ]; then
    printf 'step %s %s %s\n' "$1" "$2" "$blocked"
  else
    printf 'step %s %s\n' "$1" "$2"
  fi
}

# The first word of a file, read by awk: dash's read builtin takes one byte per read(2), and numeric sysctl files
# answer a read at a non-zero offset with end-of-file, so `read` would see "2" of 20.
first_word() {
  awk 'NR == 1 { print $1; exit }' "$1" 2>/dev/null
}

# Load per CPU: the 1-minute load average over the online CPUs (cpuN lines of /proc/stat).
check_load() {
  load=$(awk 'NR == 1 && $1 ~ /^[0-9]+\.[0-9]+$/ { print $1 }' "$root/proc/loadavg" 2>/dev/null)
  cpus=$(awk '$1 ~ /^cpu[0-9]+$/ { n++ } END { print n + 0 }' "$root/proc/stat" 2>/dev/null)
  if [ -z "$load" ] || [ "${cpus:-0}" = 0 ]; then
    printf 'precheck load unknown - - %s\n' "$max_load_per_cpu"
  elif awk -v l="$load" -v c="$cpus" -v m="$max_load_per_cpu" 'BEGIN { exit !(l > c * m) }'; then
    printf 'precheck load skip %s %s %s\n' "$load" "$cpus" "$max_load_per_cpu"
    [ -n "$blocked" ] || blocked=precheck-load
  else
    printf 'precheck load ok %s %s %s\n' "$load" "$cpus" "$max_load_per_cpu"
  fi
}

# kcompactd of the node acted on (of every node for numa=all): R (running) or D (in the middle of compacting)
# means the kernel is compacting right now; a second compaction would only compete with it.
check_kcompactd() {
  states=$(grep -lx 'kcompactd[0-9][0-9]*' "$root"/proc/[0-9]*/comm 2>/dev/null | while IFS= read -r comm; do
    name=''
    { IFS= read -r name <"$comm"; } 2>/dev/null
    node=${name#kcompactd}
    [ "$numa_node" = all ] || [ "$node" = "$numa_node" ] || continue
    state=$(awk '{ sub(/^.*\) /, ""); print $1; exit }' "${comm%comm}stat" 2>/dev/null)
    case "$state" in
      [A-Za-z]) ;;
      *) state='?' ;;
    esac
    printf ' %s:%s' "$node" "$state"
  done)
  case "$states" in
    '') printf 'precheck kcompactd unknown\n' ;;
    *:R* | *:D*)
      printf 'precheck kcompactd skip%s\n' "$states"
      [ -n "$blocked" ] || blocked=precheck-kcompactd
      ;;
    *) printf 'precheck kcompactd ok%s\n' "$states" ;;
  esac
}

# vm.compaction_proactiveness (5.9+): above the limit, kcompactd already compacts in the background.
check_proactiveness() {
  value=$(first_word "$root/proc/sys/vm/compaction_proactiveness")
  case "$value" in
    '' | *[!0-9]*) printf 'precheck proactiveness ok - %s\n' "$max_proactiveness" ;;
    *)
      if [ "$value" -gt "$max_proactiveness" ]; then
        printf 'precheck proactiveness skip %s %s\n' "$value" "$max_proactiveness"
        [ -n "$blocked" ] || blocked=precheck-proactiveness
      else
        printf 'precheck proactiveness ok %s %s\n' "$value" "$max_proactiveness"
      fi
      ;;
  esac
}

# One NUMA node through its own sysfs file; all nodes through compact_memory.
compact_step() {
  if [ "$numa_node" = all ]; then
    write_step compact "$root/proc/sys/vm/compact_memory" 1
  else
    write_step compact-node "$root/sys/devices/system/node/node$numa_node/compact" 1
  fi
}

host=''
{ IFS= read -r host <"$root/proc/sys/kernel/hostname"; } 2>/dev/null
[ -n "$host" ] || host=$(uname -n 2>/dev/null)
pagesize=$(getconf PAGESIZE 2>/dev/null) || pagesize=''

printf 'fleetscan-remediate 2\n'
printf 'host %s\n' "${host%%"$nl"*}"
case "$pagesize" in
  '' | *[!0-9]*) status=1 ;;
  *) printf 'pagesize %s\n' "$pagesize" ;;
esac
printf 'action %s\nnuma %s\ndryrun %s\n' "$action" "$numa_node" "$dry_run"

check_load
case "$action" in
  compact | compact-node | drop-caches-and-compact)
    check_kcompactd
    check_proactiveness
    ;;
esac

printf 'before\n'
zones

# drop_caches: 1 frees the page cache only, the mildest step. The combined action writes 3, which also frees
# reclaimable slab (dentries, inodes): slab pages cannot be moved by compaction, so freeing them first lets the
# compaction that follows build larger blocks. It is the heaviest action and is only sent when configured.
case "$action" in
  drop-caches)
    sync_step
    write_step drop-caches "$root/proc/sys/vm/drop_caches" 1
    ;;
  compact)
    write_step compact "$root/proc/sys/vm/compact_memory" 1
    ;;
  compact-node)
    compact_step
    ;;
  drop-caches-and-compact)
    sync_step
    write_step drop-caches "$root/proc/sys/vm/drop_caches" 3
    compact_step
    ;;
  *) reject "unhandled action ${action}" ;;
esac

# Measured again after a short settle, not at once: kcompactd and the freeing of pages go on after the write
# returns (katalyst re-measures about 10 s later).
if [ "$wrote" = 1 ] && [ "$settle_seconds" != 0 ]; then
  sleep "$settle_seconds"
  printf 'settle %s\n' "$settle_seconds"
else
  printf 'settle 0\n'
fi

printf 'after\n'
zones
printf 'end\n'
exit "$status"
