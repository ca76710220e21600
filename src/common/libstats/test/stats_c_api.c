/* The C API compiled as C99: every function of <cairn/stats.h>, including NULL safety.
 * Driven from stats_test.cpp; returns 0 on success, else the number of the failed check. */
#include <cairn/stats.h>
#include <errno.h>
#include <stddef.h>

int stats_c_api_exercise(cairn_stats_t *s);
int stats_c_api_null_safety(void);

int stats_c_api_exercise(cairn_stats_t *s) {
  if (!cairn_stats_enabled(s)) return 1;
  if (cairn_stats_set_period(s, 0) != 0) return 2;
  if (cairn_stats_set_prefix(s, "plugin.%s.%d", "c", 7) != 0) return 3;
  cairn_stats_count(s, "total", 10);
  cairn_stats_counter_add(s, "added", 3);
  cairn_stats_gauge_set(s, "level", -5);
  cairn_stats_gauge_inc(s, "level", 2);
  cairn_stats_timing(s, "took", 1.5);
  cairn_stats_timing(s, "bad:name", 1.0); /* refused: nothing sent */
  cairn_stats_timing(s, "took", -1.0);    /* refused: nothing sent */
  errno = 0;
  if (cairn_stats_set_period(s, -1) != -1 || errno != EINVAL) return 4;
  errno = 0;
  if (cairn_stats_set_prefix(s, "%0200d", 1) != -1 || errno != EINVAL) return 5;
  return 0;
}

int stats_c_api_null_safety(void) {
  cairn_stats_count(NULL, "a", 1);
  cairn_stats_counter_add(NULL, "a", 1);
  cairn_stats_gauge_set(NULL, "a", 1);
  cairn_stats_gauge_inc(NULL, "a", 1);
  cairn_stats_timing(NULL, "a", 1);
  if (cairn_stats_enabled(NULL)) return 1;
  errno = 0;
  if (cairn_stats_set_period(NULL, 1) != -1 || errno != EINVAL) return 2;
  errno = 0;
  if (cairn_stats_set_prefix(NULL, "x") != -1 || errno != EINVAL) return 3;
  return 0;
}

int stats_c_api_null_name(cairn_stats_t *s);
int stats_c_api_null_name(cairn_stats_t *s) {
  cairn_stats_count(s, NULL, 1);
  cairn_stats_counter_add(s, NULL, 1);
  cairn_stats_gauge_set(s, NULL, 1);
  cairn_stats_gauge_inc(s, NULL, 1);
  cairn_stats_timing(s, NULL, 1);
  errno = 0;
  if (cairn_stats_set_prefix(s, NULL) != -1 || errno != EINVAL) return 1;
  return 0;
}

int stats_c_api_disabled(cairn_stats_t *s);
int stats_c_api_disabled(cairn_stats_t *s) {
  if (cairn_stats_enabled(s)) return 1;
  cairn_stats_count(s, "a", 1);
  cairn_stats_counter_add(s, "a", 1);
  cairn_stats_gauge_set(s, "a", 1);
  cairn_stats_gauge_inc(s, "a", 1);
  cairn_stats_timing(s, "a", 1);
  if (cairn_stats_set_period(s, 0.5) != 0) return 2;
  if (cairn_stats_set_prefix(s, "x.%d", 1) != 0) return 3;
  return 0;
}

/* Names and prefixes outside [A-Za-z0-9_.-] are refused: "?" is cairn_job_statetostr() of an
 * unknown state. Every metric call with one sends nothing (the test counts 5 refusals); a bad
 * prefix fails with EINVAL and the old prefix stays. */
int stats_c_api_invalid_names(cairn_stats_t *s);
int stats_c_api_invalid_names(cairn_stats_t *s) {
  if (cairn_stats_set_prefix(s, "cairn.job.%s", "state") != 0) return 1;
  errno = 0;
  if (cairn_stats_set_prefix(s, "cairn.job.%s", "?") != -1 || errno != EINVAL) return 2;
  errno = 0;
  if (cairn_stats_set_prefix(s, "cairn job") != -1 || errno != EINVAL) return 3;
  cairn_stats_count(s, "?", 1);
  cairn_stats_counter_add(s, "a/b", 1);
  cairn_stats_gauge_set(s, "caf\xc3\xa9", 1);
  cairn_stats_gauge_inc(s, "?", -1);
  cairn_stats_timing(s, "t:1", 1.0);
  cairn_stats_gauge_inc(s, "RUN", 1);
  return 0;
}
