/* cairn jobtap: the C API for job-manager plugins (see cairn-jobtap(7)).
 * A plugin is a shared object exporting `int cairn_plugin_init (cairn_plugin_t *p)`; it registers
 * callbacks for topics (glob patterns) and reads job data through the args accessors. Every
 * function here is provided by the cairn broker that loads the plugin; nothing is linked in. */
#ifndef CAIRN_JOBTAP_H
#define CAIRN_JOBTAP_H

#include <cairn/stats.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cairn_plugin cairn_plugin_t;
typedef struct cairn_plugin_args cairn_plugin_args_t;

/* Job states (values of the "state" and "prev_state" args). */
enum {
  CAIRN_JOB_NEW = 1,
  CAIRN_JOB_DEPEND = 2,
  CAIRN_JOB_PRIORITY = 4,
  CAIRN_JOB_SCHED = 8,
  CAIRN_JOB_RUN = 16,
  CAIRN_JOB_CLEANUP = 32,
  CAIRN_JOB_INACTIVE = 64,
};

/* A topic callback. `topic` is the event (e.g. "job.state.run"); `arg` is what was given to
 * cairn_plugin_add_handler. A return value < 0 is logged by the host; the job goes on. */
typedef int (*cairn_plugin_f)(cairn_plugin_t *p, const char *topic, cairn_plugin_args_t *args,
                              void *arg);

/* Defined by the plugin: called once at load. A value < 0 refuses the load; log the reason
 * with cairn_plugin_log first so it reaches the user of `cairn jobtap load`. */
int cairn_plugin_init(cairn_plugin_t *p);

/* Calls `cb` for every topic matching the fnmatch(3) pattern `topic_glob` ("job.state.*").
 * Handlers run in plugin load order, then registration order. -1 with errno EINVAL on a NULL
 * argument, ENOMEM if out of memory. */
int cairn_plugin_add_handler(cairn_plugin_t *p, const char *topic_glob, cairn_plugin_f cb,
                             void *arg);

/* Job data of the current event. Keys: "id", "state", "prev_state" (absent on the first
 * transition), "userid", "status" and "exit_code" (once the command has ended), integers;
 * "t_submit", "t_run", "t_cleanup", "t_inactive" (Unix seconds, each present once the job has
 * reached that point), doubles; "command" (the command line), a string.
 * Return 0, or -1 with errno ENOENT (absent key) or EINVAL (NULL argument, or wrong type:
 * cairn_plugin_arg_double also accepts an integer key). The string stays valid during the call. */
int cairn_plugin_arg_int(cairn_plugin_args_t *args, const char *key, int64_t *v);
int cairn_plugin_arg_double(cairn_plugin_args_t *args, const char *key, double *v);
int cairn_plugin_arg_string(cairn_plugin_args_t *args, const char *key, const char **v);

/* Plugin-private data by name. A value replaced or left at unload is passed to its `destroy`
 * (may be NULL). aux_set returns -1 with errno EINVAL on a NULL key; aux_get returns NULL and
 * errno ENOENT for an unknown key. */
int cairn_plugin_aux_set(cairn_plugin_t *p, const char *key, void *val, void (*destroy)(void *));
void *cairn_plugin_aux_get(cairn_plugin_t *p, const char *key);

/* A KEY=VALUE given at load (`cairn jobtap load PATH KEY=VALUE...`); NULL if not given.
 * Read every setting in cairn_plugin_init: a setting that init does not ask for is taken for
 * a typo, and `cairn jobtap load` warns of it (the plugin is loaded all the same). */
const char *cairn_plugin_conf(cairn_plugin_t *p, const char *key);

/* The plugin's name (its file name without ".so"). */
const char *cairn_plugin_name(cairn_plugin_t *p);

/* Logs to the broker's log (`cairn dmesg`), prefixed with the plugin's name. `level` uses
 * syslog numbering (LOG_ERR = 3 ... LOG_DEBUG = 7, from <syslog.h>). */
void cairn_plugin_log(cairn_plugin_t *p, int level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* The plugin's own statsd context: prefix and period start as the broker's (stats.prefix,
 * stats.period) and may be changed with cairn_stats_set_prefix/_set_period without touching
 * any other plugin. NULL only if the host has no telemetry at all (every cairn_stats_* call is
 * safe with NULL). */
cairn_stats_t *cairn_plugin_stats(cairn_plugin_t *p);

/* "RUN" (or "R" with single_char) for CAIRN_JOB_RUN, and so on; "?" for an unknown value. */
const char *cairn_job_statetostr(int64_t state, bool single_char);

#ifdef __cplusplus
}
#endif

#endif /* CAIRN_JOBTAP_H */
