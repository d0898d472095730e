# deploy/central/influxdb/init/10-vibewatch.sh — the vibewatch database of the central InfluxDB 1.8.
#
# Not run by itself: the official influxdb:1.8 image sources every *.sh of
# /docker-entrypoint-initdb.d (compose.yaml mounts this folder there) once, on the first start
# with an empty /var/lib/influxdb, after it has created the admin ($INFLUXDB_ADMIN_USER), the
# box's write-only user ($INFLUXDB_WRITE_USER) and Grafana's read-only user
# ($INFLUXDB_READ_USER). $INFLUX_CMD is the image's `influx … -execute` with the admin's
# credentials. INFLUXDB_DB is deliberately not set, so that the image does not create the
# database with an infinite "autogen" policy first; this script creates it with its retention.
#
# By hand (any InfluxDB 1.x with auth-enabled, as the admin), the same statements:
#   CREATE DATABASE "vibewatch" WITH DURATION 730d REPLICATION 1 SHARD DURATION 7d NAME "vibewatch_rp"
#   GRANT WRITE ON "vibewatch" TO "vibewatch-box"
#   GRANT READ ON "vibewatch" TO "grafana"
#
# VW_INFLUX_DB, VW_INFLUX_RETENTION and VW_INFLUX_SHARD come from compose.yaml (.env).

vw_db=${VW_INFLUX_DB:-vibewatch}
vw_retention=${VW_INFLUX_RETENTION:-730d}
vw_shard=${VW_INFLUX_SHARD:-7d}

# The default retention policy of the database: boxes write without "rp", Grafana reads without
# one, and both get this one.
$INFLUX_CMD "CREATE DATABASE \"$vw_db\" WITH DURATION $vw_retention REPLICATION 1 SHARD DURATION $vw_shard NAME \"vibewatch_rp\""
if [ -n "${INFLUXDB_WRITE_USER:-}" ]; then
    $INFLUX_CMD "GRANT WRITE ON \"$vw_db\" TO \"$INFLUXDB_WRITE_USER\""
fi
if [ -n "${INFLUXDB_READ_USER:-}" ]; then
    $INFLUX_CMD "GRANT READ ON \"$vw_db\" TO \"$INFLUXDB_READ_USER\""
fi
echo "vibewatch: database \"$vw_db\" (retention $vw_retention, shards of $vw_shard) with write access for" \
    "\"${INFLUXDB_WRITE_USER:-nobody}\" and read access for \"${INFLUXDB_READ_USER:-nobody}\""
