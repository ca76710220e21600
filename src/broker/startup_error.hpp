// cairn::broker::StartupError: a failure that stops the broker from starting (an endpoint it
// cannot bind, a statedir it may not use, a socket it cannot share), other than configuration
// (ConfigError). Thrown only while starting; runner.cpp prints it as `cairn: <what>: <why>`.
#pragma once

#include <stdexcept>
#include <string>

namespace cairn::broker {

class StartupError : public std::runtime_error {
 public:
  // `what`: the part that failed ("listen", "socket", "statedir", "security"); `why`: why.
  StartupError(const std::string& what, const std::string& why)
      : std::runtime_error(what + ": " + why) {}
};

}  // namespace cairn::broker
