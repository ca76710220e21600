/* cairn statsd client, C API for jobtap plugins (see cairn-stats(3)).
 * A context is obtained from the host, e.g. cairn_plugin_stats() for a jobtap plugin.
 * Every call is safe with a NULL context or NULL name: it does nothing.
 * Names and prefixes use only [A-Za-z0-9_.-] (a name is not empty). A metric call with any other
 * name sends nothing and is counted (invalid_names in `cairn stats status`). */
#ifndef CAIRN_STATS_H
#define CAIRN_STATS_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cairn_stats cairn_stats_t;

void cairn_stats_count(cairn_stats_t *s, const char *name, int64_t total);
void cairn_stats_counter_add(cairn_stats_t *s, const char *name, int64_t delta);
void cairn_stats_gauge_set(cairn_stats_t *s, const char *name, int64_t value);
void cairn_stats_gauge_inc(cairn_stats_t *s, const char *name, int64_t delta);
void cairn_stats_timing(cairn_stats_t *s, const char *name, double ms);
int cairn_stats_set_period(cairn_stats_t *s, double seconds); /* -1, EINVAL if < 0 */
/* -1, EINVAL if > 127 chars or a char outside [A-Za-z0-9_.-]; the old prefix stays */
int cairn_stats_set_prefix(cairn_stats_t *s, const char *fmt, ...);
bool cairn_stats_enabled(cairn_stats_t *s);

#ifdef __cplusplus
}
#endif

#endif /* CAIRN_STATS_H */
