/* A plugin that needs a symbol no host provides, so dlopen (RTLD_NOW) fails. */
#include <cairn/jobtap.h>

void cairn_symbol_nobody_defines(void);

int cairn_plugin_init(cairn_plugin_t *p) {
  (void)p;
  cairn_symbol_nobody_defines();
  return 0;
}
