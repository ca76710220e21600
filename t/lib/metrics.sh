# Metric names for the tests that hold the broker, the plugins and the dashboard to the
# reference. Source after sharness-cairn.sh.

# metrics_documented: "name type" for every metric cairn-metrics(7) lists (".BR name
# \" (type, unit)\"" entries, "\-" unescaped), sorted.
metrics_documented() {
	sed -n 's/^\.BR \([a-z][^ ]*\) " (\(gauge\|counter\|timer\),.*/\1 \2/p' \
		"$CAIRN_SRCDIR/doc/man7/cairn-metrics.7" | sed 's/\\-/-/g' | sort -u
}

# dashboard_metrics FILE: "name type" for every metric a Grafana dashboard's Graphite targets
# read, the type told by Etsy statsd's namespace: stats.gauges.cairn.RANK.NAME (gauge),
# stats.timers.cairn.RANK.NAME.STAT (timer), stats.cairn.RANK.NAME or
# stats_counts.cairn.RANK.NAME (counter). A name in any other namespace is printed with the
# type "unknown".
dashboard_metrics() {
	jq -r '.panels[].targets[].target' "$1" |
	grep -o '[a-z_]*\.[a-z.]*cairn\.[^.]*\.[A-Za-z0-9_.-]*' |
	sed -e 's/^stats\.gauges\.cairn\.[^.]*\.\(.*\)/\1 gauge/' \
	    -e 's/^stats\.timers\.cairn\.[^.]*\.\(.*\)\.[a-z_0-9]* *$/\1 timer/' \
	    -e 's/^stats_counts\.cairn\.[^.]*\.\(.*\)/\1 counter/' \
	    -e 's/^stats\.cairn\.[^.]*\.\(.*\)/\1 counter/' \
	    -e '/ \(gauge\|timer\|counter\)$/!s/$/ unknown/' |
	sort -u
}
