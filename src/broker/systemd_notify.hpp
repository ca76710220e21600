// Readiness notice to systemd (sd_notify(3)) for the Type=notify unit etc/cairn.service.
// Invariant: sent at most once, and only when systemd asked for it (NOTIFY_SOCKET set) in a
// build with libsystemd; otherwise nothing happens. NOTIFY_SOCKET is removed from the
// environment, so the initial program and jobs cannot speak for the broker.
#pragma once

#include <string>

namespace cairn::broker {

// Tells systemd the broker is serving at `uri` (READY=1, STATUS=...). Call once the endpoint is
// bound and every module is created. Returns a warning to log if systemd could not be told,
// else an empty string.
std::string notify_ready(const std::string& uri);

}  // namespace cairn::broker
