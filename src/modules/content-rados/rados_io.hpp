// cairn::content::RadosIo: the three asynchronous RADOS operations the rados backing store
// needs (replace an object, read part of one, stat one), behind an interface so that the backing's
// unit tests can complete, fail and reorder them from any thread (a fake), while LibradosIo
// (librados_io.hpp) does them through librados' C API.
// Contract: write_full(), read() and stat() never block. Each calls its `done` exactly once, from
// any thread (librados' own, usually), perhaps before it returns (an operation that could not be
// started). Destroying a RadosIo cancels what is still outstanding and returns only once no
// `done` is running or will run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

namespace cairn::content {

// The end of one operation: a result >= 0 on success (a read: the bytes read), else a negated
// errno (-ENOENT: no such object; -ETIMEDOUT: past rados.op-timeout; -ECANCELED: cancelled by
// the RadosIo's destruction).
using RadosDone = std::function<void(int result)>;

class RadosIo {
 public:
  virtual ~RadosIo() = default;

  // Replaces the object `oid` (NUL-terminated) with `data`, creating it if needed; `data` is
  // copied before the call returns. done(0) once it is stored.
  virtual void write_full(const char* oid, std::string_view data, RadosDone done) = 0;

  // Reads up to `len` (at most INT_MAX) bytes of `oid` from `offset` into `buf`, which must
  // stay valid until done runs; fewer only at the object's end. With `object_size` not null,
  // the same operation also stores the object's size there before done runs.
  virtual void read(const char* oid, uint64_t offset, char* buf, size_t len, uint64_t* object_size,
                    RadosDone done) = 0;

  // Whether `oid` exists: done(0) if it does, done(-ENOENT) if not (a stat; nothing is read).
  virtual void stat(const char* oid, RadosDone done) = 0;
};

}  // namespace cairn::content
