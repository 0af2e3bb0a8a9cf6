#!/bin/sh
# kuozheng's nightly backup, run by kuozheng-backup.service (install as
# /usr/local/bin/kuozheng-backup.sh): a backup of the ledger into a new folder named by the time,
# then a restore drill that restores it into a scratch data folder and verifies it there (every
# hash chain, every freeze's digest); only then are the backups older than the retention deleted,
# so a night that fails never costs an older backup. Any failure exits non-zero: the unit fails
# and says so (systemctl --failed, the journal; alert on it).
#
# From the environment (kuozheng.env):
#   KUOZHENG_NATS               the cluster, nats://USER:PASSWORD@n1:4222,... (required)
#   KUOZHENG_LEDGER             the city whose ledger (default 360700, Ganzhou)
#   KUOZHENG_BACKUPS            where backups go (default /var/backups/kuozheng): another disk
#                               than the NATS nodes' stores, copied off-site (README, Backups)
#   KUOZHENG_BACKUP_KEEP_DAYS   days of backups kept (default 14)
#   KUOZHENG_BACKUP_DRILL       the drill's scratch data folder (default /var/lib/kuozheng-backup/drill)
set -eu

: "${KUOZHENG_NATS:?set KUOZHENG_NATS to the cluster: nats://USER:PASSWORD@n1:4222,...}"
ledger=${KUOZHENG_LEDGER:-360700}
backups=${KUOZHENG_BACKUPS:-/var/backups/kuozheng}
keep_days=${KUOZHENG_BACKUP_KEEP_DAYS:-14}
drill=${KUOZHENG_BACKUP_DRILL:-/var/lib/kuozheng-backup/drill}
kuozheng=${KUOZHENG_BIN:-/usr/local/bin/kuozheng}

dir=$backups/$ledger-$(date -u +%Y-%m-%dT%H%M%SZ)
"$kuozheng" backup "$dir" --nats "$KUOZHENG_NATS" --ledger "$ledger"

rm -rf "$drill"
"$kuozheng" restore "$dir" --data "$drill"
rm -rf "$drill"

# Backups of this ledger older than the retention; never the one just made and restored.
find "$backups" -mindepth 1 -maxdepth 1 -type d -name "$ledger-*" ! -path "$dir" -mtime +"$keep_days" -print -exec rm -rf {} +
