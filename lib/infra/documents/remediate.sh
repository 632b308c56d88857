#!/bin/sh
# fleetscan remediate: measures buddyinfo, acts, measures again, and prints the remediation report, version 1,
# exactly as lib/core/report.ts defines it. With dryRun=true it writes nothing anywhere (not even sync): every step
# only checks that its target exists and prints dry-run.
#
# SSM splices the document parameters textually into the three assignments below. allowedValues/allowedPattern
# are enforced before the command starts and admit no quote, so the single quotes keep each value data; the case
# statements check them again because this file must not depend on its caller for its safety.
action='{{ action }}'
numa_node='{{ numaNode }}'
dry_run='{{ dryRun }}'

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

status=0
failed=0
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
  if [ "$failed" = 1 ]; then
    result=skipped
  elif [ ! -e "$file" ]; then
    printf 'fleetscan-remediate: %s: %s does not exist\n' "$name" "$file" >&2
    result=failed
  elif [ "$dry_run" = true ]; then
    result=dry-run
  elif { printf '%s\n' "$value" >"$file"; } 2>/dev/null; then
    result=ok
  else
    printf 'fleetscan-remediate: %s: cannot write %s to %s\n' "$name" "$value" "$file" >&2
    result=failed
  fi
  finish_step "$name" "$result"
}

sync_step() {
  if [ "$failed" = 1 ]; then
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
  printf 'step %s %s\n' "$1" "$2"
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

printf 'fleetscan-remediate 1\n'
printf 'host %s\n' "${host%%"$nl"*}"
case "$pagesize" in
  '' | *[!0-9]*) status=1 ;;
  *) printf 'pagesize %s\n' "$pagesize" ;;
esac
printf 'action %s\nnuma %s\ndryrun %s\n' "$action" "$numa_node" "$dry_run"

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

printf 'after\n'
zones
printf 'end\n'
exit "$status"
