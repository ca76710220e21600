// notify_ready (see systemd_notify.hpp): one sd_notify call, or nothing in a build without
// libsystemd (configure --without-systemd).
#include "broker/systemd_notify.hpp"

#include <config.h>

#include <cstring>

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace cairn::broker {

std::string notify_ready(const std::string& uri) {
#ifdef HAVE_SYSTEMD
  std::string state = "READY=1\nSTATUS=serving at " + uri;
  int rc = sd_notify(1, state.c_str());
  if (rc < 0)
    return "cannot tell systemd the broker is ready (sd_notify: " + std::string(strerror(-rc)) +
           "): with Type=notify, systemd will time the start out";
#else
  (void)uri;
#endif
  return {};
}

}  // namespace cairn::broker
