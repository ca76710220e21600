// A Backing for unit tests: keeps blobs in a map and holds every request until the test
// completes it, so a test decides exactly when (and with which errno) each write/read lands.
// A failure's text is the fake's own, naming the errno and the object ("fake store of
// sha1-...: No space left on device"), so a test can follow it to the client.
#pragma once

#include <cerrno>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <string>

#include "modules/content-backing/backing.hpp"

namespace cairn::content::test {

struct FakeBackingState {
  std::map<std::string, std::string> blobs;   // blobref -> data
  std::deque<std::function<void()>> pending;  // completions not yet delivered
  int store_errno = 0;                        // errno the next writes complete with
  int stores = 0;                             // writes issued
  int loads = 0;                              // reads issued
  int exists = 0;                             // exists queries issued
  int exists_errno = 0;                       // errno exists queries fail with (not ENOENT)
  int load_errno = 0;                         // errno reads fail with (0: answer from blobs)
  size_t in_flight() const { return pending.size(); }
  // Delivers up to n completions (all by default), oldest first.
  void complete(size_t n = SIZE_MAX) {
    while (n-- > 0 && !pending.empty()) {
      auto fn = std::move(pending.front());
      pending.pop_front();
      fn();
    }
  }
};

class FakeBacking : public Backing {
 public:
  explicit FakeBacking(std::shared_ptr<FakeBackingState> s) : s_(std::move(s)) {}
  void store(const util::Digest& key, std::string_view data, StoreCallback cb) override {
    s_->stores++;
    s_->pending.push_back([s = s_.get(), ref = util::blobref_format(key), data, cb]() {
      // Read the data only at completion time, as a store thread would.
      if (s->store_errno == 0)
        s->blobs[ref] = std::string(data);
      else
        return cb(failure(s->store_errno, "store", ref));
      cb(util::Status());
    });
  }
  void load(const util::Digest& key, LoadCallback cb) override {
    s_->loads++;
    s_->pending.push_back([s = s_.get(), ref = util::blobref_format(key), cb]() {
      auto it = s->blobs.find(ref);
      if (s->load_errno != 0)
        cb(failure(s->load_errno, "load", ref));
      else if (it == s->blobs.end())
        cb(failure(ENOENT, "load", ref));
      else
        cb(std::string_view(it->second));
    });
  }
  void exists(const util::Digest& key, ExistsCallback cb) override {
    s_->exists++;
    s_->pending.push_back([s = s_.get(), ref = util::blobref_format(key), cb]() {
      if (s->exists_errno != 0)
        cb(failure(s->exists_errno, "exists", ref));
      else if (s->blobs.count(ref) == 0)
        cb(failure(ENOENT, "exists", ref));
      else
        cb(util::Status());
    });
  }
  std::string describe(const util::Digest& key) const override {
    return "fake object " + util::blobref_format(key);
  }

  // "fake <what> of <ref>: <strerror>".
  static util::Error failure(int errnum, const char* what, const std::string& ref) {
    return util::Error{errnum,
                       std::string("fake ") + what + " of " + ref + ": " + std::strerror(errnum)};
  }

 private:
  std::shared_ptr<FakeBackingState> s_;
};

}  // namespace cairn::content::test
