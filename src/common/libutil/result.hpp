// cairn::util::Error and Result<T>: the one shape of an expected failure inside cairn's C++
// code, an errno and a human sentence (errno + text is also what crosses the protocol).
// Invariants: a Result holds exactly one of a value or an Error; an Error's errnum is never 0.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace cairn::util {

// What went wrong: `errnum` for programs (ENOENT, ENOSPC, ...), `text` for people. `text`
// says what failed and why, e.g. "cannot open /x/content.sqlite: Permission denied".
struct Error {
  int errnum = 0;
  std::string text;
};

// A value or an Error. Read `ok()` first; `value()` and `error()` assert the right side.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}     // NOLINT: implicit
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {  // NOLINT: implicit
    assert(std::get<1>(v_).errnum != 0);
  }

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }
  // 0 when ok(), else error().errnum.
  int errnum() const { return ok() ? 0 : std::get<1>(v_).errnum; }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success carries nothing.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) { assert(error_.errnum != 0); }  // NOLINT

  bool ok() const { return error_.errnum == 0; }
  explicit operator bool() const { return ok(); }
  const Error& error() const {
    assert(!ok());
    return error_;
  }
  // 0 when ok(), else error().errnum.
  int errnum() const { return error_.errnum; }

 private:
  Error error_;
};

using Status = Result<void>;

}  // namespace cairn::util
