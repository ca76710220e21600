/* A jobtap test plugin that reports what it sees as log lines, so the unit tests can assert on
 * the arguments of every event. conf: "fail=1" makes init fail (after logging why),
 * "glob=PATTERN" chooses the topics (default "*"), "cbfail=TOPIC" makes that topic's callback
 * return -1. It reads every setting in init, as a plugin should. */
#include <cairn/jobtap.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

static int probe_cb(cairn_plugin_t *p, const char *topic, cairn_plugin_args_t *args, void *arg) {
  int64_t id = -1, state = -1, prev = -1, userid = -1;
  double t_submit = -1;
  const char *command = NULL;
  const char *cbfail = arg; /* the setting, read in init */
  char prevtext[32];

  cairn_plugin_arg_int(args, "id", &id);
  cairn_plugin_arg_int(args, "state", &state);
  cairn_plugin_arg_int(args, "userid", &userid);
  cairn_plugin_arg_double(args, "t_submit", &t_submit);
  cairn_plugin_arg_string(args, "command", &command);
  if (cairn_plugin_arg_int(args, "prev_state", &prev) < 0)
    snprintf(prevtext, sizeof prevtext, "%s", errno == ENOENT ? "ENOENT" : "error");
  else
    snprintf(prevtext, sizeof prevtext, "%s", cairn_job_statetostr(prev, false));
  cairn_plugin_log(
      p, LOG_INFO,
      "%s id=%" PRId64 " state=%s prev=%s userid=%" PRId64 " t_submit=%s command=%s aux=%s", topic,
      id, cairn_job_statetostr(state, false), prevtext, userid, t_submit > 0 ? "set" : "unset",
      command ? command : "(null)", (const char *)cairn_plugin_aux_get(p, "greeting"));
  if (cbfail && strcmp(cbfail, topic) == 0) return -1;
  return 0;
}

int cairn_plugin_init(cairn_plugin_t *p) {
  const char *fail = cairn_plugin_conf(p, "fail");
  const char *glob = cairn_plugin_conf(p, "glob");
  const char *cbfail = cairn_plugin_conf(p, "cbfail"); /* valid while the plugin is loaded */

  if (fail && strcmp(fail, "1") == 0) {
    cairn_plugin_log(p, LOG_ERR, "refusing to load: fail=1 was given");
    return -1;
  }
  if (cairn_plugin_aux_set(p, "greeting", (void *)"hello", NULL) < 0) return -1;
  if (cairn_plugin_add_handler(p, glob ? glob : "*", probe_cb, (void *)cbfail) < 0) return -1;
  return 0;
}
