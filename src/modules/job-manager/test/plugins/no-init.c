/* A shared object that is not a jobtap plugin: it lacks cairn_plugin_init. */
int not_a_plugin(void);
int not_a_plugin(void) { return 42; }
