/* A plugin-like shared object for stats_test: it links nothing and calls the C API, whose
 * symbols the dynamic loader must find in the executable (linked with -rdynamic). */
#include <cairn/stats.h>

int stats_plugin_run(cairn_stats_t *s);

int stats_plugin_run(cairn_stats_t *s) {
  if (!cairn_stats_enabled(s)) return 1;
  cairn_stats_set_period(s, 0);
  cairn_stats_gauge_set(s, "from.plugin", 42);
  return 0;
}
