// `cairn` loads libzmq only when it needs it: for tcp:// and `cairn keygen`. These definitions
// of the libzmq functions cairn calls (through libclient and libmsg) open libzmq.so.5 on first
// use and call through to it, so a command on local://, or one that connects to nothing
// (--version, --help), starts without libzmq and the dozen libraries it brings (libsodium,
// libpgm, libnorm, Kerberos). The broker and libcairn link libzmq as usual; only the cairn
// program is linked with this file (src/cmd/Makefile.inc, with --as-needed).
// Without libzmq a call fails with errno ELIBACC, and zmq_strerror() says what to install.
#include <dlfcn.h>
#include <zmq.h>

#include <cerrno>
#include <string>

namespace {

constexpr char kLibzmq[] = "libzmq.so.5";

std::string& load_error() {
  static std::string text;
  return text;
}

void* libzmq() {
  static void* handle = [] {
    void* h = dlopen(kLibzmq, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      const char* why = dlerror();
      load_error() = std::string("cannot load ") + kLibzmq + " (" + (why ? why : "dlopen failed") +
                     "): install the Debian package libzmq5";
    }
    return h;
  }();
  return handle;
}

// The libzmq function `name` of type F, or null (errno ELIBACC) when libzmq cannot be loaded.
template <typename F>
F* resolve(const char* name) {
  void* h = libzmq();
  void* f = h ? dlsym(h, name) : nullptr;
  if (!f) errno = ELIBACC;
  return reinterpret_cast<F*>(f);
}

}  // namespace

// One forwarding definition: resolved once, then a plain indirect call.
#define CAIRN_LAZY_ZMQ(ret, name, params, args, on_failure) \
  extern "C" ret name params {                              \
    static auto* real = resolve<decltype(::name)>(#name);   \
    if (!real) return on_failure;                           \
    return real args;                                       \
  }

CAIRN_LAZY_ZMQ(void*, zmq_ctx_new, (void), (), nullptr)
CAIRN_LAZY_ZMQ(int, zmq_ctx_term, (void* c), (c), -1)
CAIRN_LAZY_ZMQ(void*, zmq_socket, (void* c, int type), (c, type), nullptr)
CAIRN_LAZY_ZMQ(int, zmq_close, (void* s), (s), -1)
CAIRN_LAZY_ZMQ(int, zmq_setsockopt, (void* s, int o, const void* v, size_t n), (s, o, v, n), -1)
CAIRN_LAZY_ZMQ(int, zmq_getsockopt, (void* s, int o, void* v, size_t* n), (s, o, v, n), -1)
CAIRN_LAZY_ZMQ(int, zmq_connect, (void* s, const char* a), (s, a), -1)
CAIRN_LAZY_ZMQ(int, zmq_send, (void* s, const void* b, size_t n, int f), (s, b, n, f), -1)
CAIRN_LAZY_ZMQ(int, zmq_poll, (zmq_pollitem_t * i, int n, long t), (i, n, t), -1)
CAIRN_LAZY_ZMQ(int, zmq_msg_init, (zmq_msg_t * m), (m), -1)
CAIRN_LAZY_ZMQ(int, zmq_msg_init_data, (zmq_msg_t * m, void* d, size_t n, zmq_free_fn* f, void* h),
               (m, d, n, f, h), -1)
CAIRN_LAZY_ZMQ(int, zmq_msg_close, (zmq_msg_t * m), (m), -1)
CAIRN_LAZY_ZMQ(int, zmq_msg_recv, (zmq_msg_t * m, void* s, int f), (m, s, f), -1)
CAIRN_LAZY_ZMQ(int, zmq_msg_send, (zmq_msg_t * m, void* s, int f), (m, s, f), -1)
CAIRN_LAZY_ZMQ(int, zmq_msg_move, (zmq_msg_t * d, zmq_msg_t* s), (d, s), -1)
CAIRN_LAZY_ZMQ(size_t, zmq_msg_size, (const zmq_msg_t* m), (m), 0)
CAIRN_LAZY_ZMQ(void*, zmq_msg_data, (zmq_msg_t * m), (m), nullptr)
CAIRN_LAZY_ZMQ(int, zmq_msg_more, (const zmq_msg_t* m), (m), 0)
CAIRN_LAZY_ZMQ(const char*, zmq_msg_gets, (const zmq_msg_t* m, const char* p), (m, p), nullptr)
CAIRN_LAZY_ZMQ(char*, zmq_z85_encode, (char* d, const uint8_t* s, size_t n), (d, s, n), nullptr)
CAIRN_LAZY_ZMQ(uint8_t*, zmq_z85_decode, (uint8_t * d, const char* s), (d, s), nullptr)
CAIRN_LAZY_ZMQ(int, zmq_curve_keypair, (char* p, char* s), (p, s), -1)

// Asked after a failure: libzmq's own when it is loaded, else why it could not be.
extern "C" int zmq_errno(void) {
  static auto* real = resolve<decltype(::zmq_errno)>("zmq_errno");
  return real ? real() : ELIBACC;
}

extern "C" const char* zmq_strerror(int errnum) {
  static auto* real = resolve<decltype(::zmq_strerror)>("zmq_strerror");
  return real ? real(errnum) : load_error().c_str();
}
