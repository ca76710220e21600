// util::SharedObject: owns one dlopen() handle (jobtap plugins, backing store modules).
#pragma once

#include <dlfcn.h>

namespace cairn::util {

class SharedObject {
 public:
  SharedObject() = default;
  explicit SharedObject(void* handle) : handle_(handle) {}
  ~SharedObject() {
    if (handle_) dlclose(handle_);
  }
  SharedObject(const SharedObject&) = delete;
  SharedObject& operator=(const SharedObject&) = delete;
  void reset(void* handle) {
    if (handle_) dlclose(handle_);
    handle_ = handle;
  }
  void* symbol(const char* name) const { return handle_ ? dlsym(handle_, name) : nullptr; }

 private:
  void* handle_ = nullptr;
};

}  // namespace cairn::util
