// TLS transport: OpenSSL on a socket from open_tcp_socket. With TLS 1.3 a
// server that rejects the client certificate says so only on the first read,
// which is why redis_client::connect always talks (AUTH or PING) before it
// reports success.

#include "actors/sink/tls_transport.hpp"

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "messages/failure.hpp"

namespace trib {

namespace {

/// The newest OpenSSL error as text (and clears the queue); its code in
/// `code` when given.
std::string openssl_error(unsigned long* code_out = nullptr) {
  unsigned long code = 0, last = 0;
  while ((code = ERR_get_error()) != 0) last = code;
  if (code_out) *code_out = last;
  if (last == 0) return "unknown TLS error";
  char buf[256];
  ERR_error_string_n(last, buf, sizeof buf);
  return buf;
}

/// Whether an OpenSSL error says a certificate was refused, by us or by the
/// server: no retry can change that, so it is a permanent failure.
bool certificate_refused(unsigned long code) {
  if (code == 0 || ERR_GET_LIB(code) != ERR_LIB_SSL) return false;
  switch (ERR_GET_REASON(code)) {
    case SSL_R_CERTIFICATE_VERIFY_FAILED:
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
      return true;
    default:
      return false;
  }
}



using ctx_ptr = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;
using ssl_ptr = std::unique_ptr<SSL, decltype(&SSL_free)>;

[[noreturn]] void store_error(const store_config& s, const std::string& what) {
  throw error(failure_code::config, "ssl store " + s.path + ": " + what);
}

struct pkcs12_contents {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  STACK_OF(X509)* chain = nullptr;
  ~pkcs12_contents() {
    EVP_PKEY_free(key);
    X509_free(cert);
    sk_X509_pop_free(chain, X509_free);
  }
};

// A file a store names must be readable; otherwise OpenSSL answers with a
// code that says neither which file nor why.
void check_readable(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f)
    throw error(failure_code::config,
                "ssl store " + path + ": cannot read the file: " + std::strerror(errno));
  std::fclose(f);
}

void read_pkcs12(const store_config& s, pkcs12_contents& out) {
  check_readable(s.path);
  FILE* f = std::fopen(s.path.c_str(), "rb");
  if (!f) store_error(s, "cannot open the file");
  PKCS12* p12 = d2i_PKCS12_fp(f, nullptr);
  std::fclose(f);
  if (!p12) store_error(s, "not a PKCS12 file: " + openssl_error());
  int ok = PKCS12_parse(p12, s.password.c_str(), &out.key, &out.cert, &out.chain);
  PKCS12_free(p12);
  if (!ok) store_error(s, "cannot open the PKCS12 bundle (wrong password?): " + openssl_error());
}

bool is_pkcs12(const store_config& s) { return s.store_type != "PEM"; }

void load_trust_store(SSL_CTX* ctx, const store_config& s) {
  if (!is_pkcs12(s)) {
    check_readable(s.path);
    if (SSL_CTX_load_verify_locations(ctx, s.path.c_str(), nullptr) != 1)
      store_error(s, "cannot read CA certificates: " + openssl_error());
    return;
  }
  pkcs12_contents p;
  read_pkcs12(s, p);
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  int added = 0;
  if (p.cert && X509_STORE_add_cert(store, p.cert) == 1) ++added;
  for (int i = 0; p.chain && i < sk_X509_num(p.chain); ++i)
    if (X509_STORE_add_cert(store, sk_X509_value(p.chain, i)) == 1) ++added;
  if (added == 0) store_error(s, "holds no certificate");
}

int password_callback(char* buf, int size, int, void* userdata) {
  const auto* password = static_cast<const std::string*>(userdata);
  int n = static_cast<int>(password->size());
  if (n > size) n = size;
  password->copy(buf, static_cast<size_t>(n));
  return n;
}

void load_key_store(SSL_CTX* ctx, const store_config& s) {
  if (!is_pkcs12(s)) {
    const std::string& key = s.key_path.empty() ? s.path : s.key_path;
    check_readable(s.path);
    check_readable(key);
    SSL_CTX_set_default_passwd_cb(ctx, password_callback);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, const_cast<std::string*>(&s.password));
    if (SSL_CTX_use_certificate_chain_file(ctx, s.path.c_str()) != 1)
      store_error(s, "cannot read the client certificate: " + openssl_error());
    if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1)
      store_error(s, "cannot read the private key " + key + ": " + openssl_error());
  } else {
    pkcs12_contents p;
    read_pkcs12(s, p);
    if (!p.cert || !p.key) store_error(s, "holds no certificate with its key");
    if (SSL_CTX_use_certificate(ctx, p.cert) != 1 || SSL_CTX_use_PrivateKey(ctx, p.key) != 1)
      store_error(s, "cannot use the client certificate: " + openssl_error());
    for (int i = 0; p.chain && i < sk_X509_num(p.chain); ++i) {
      X509* extra = X509_dup(sk_X509_value(p.chain, i));
      if (SSL_CTX_add_extra_chain_cert(ctx, extra) != 1) X509_free(extra);
    }
  }
  if (SSL_CTX_check_private_key(ctx) != 1)
    store_error(s, "the private key does not match the certificate");
}

void set_socket_timeouts(int fd, int ms) {
  if (ms <= 0) return;
  timeval tv{};
  tv.tv_sec = ms / 1000;
  tv.tv_usec = (ms % 1000) * 1000;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

class tls_transport : public transport {
public:
  tls_transport(int fd, ctx_ptr ctx, ssl_ptr ssl, std::string peer, bool client_certificate)
    : fd_(fd), ctx_(std::move(ctx)), ssl_(std::move(ssl)), peer_(std::move(peer)),
      client_certificate_(client_certificate) {
  }

  ~tls_transport() override {
    SSL_shutdown(ssl_.get());
    ssl_.reset();
    ::close(fd_);
  }

  void write_all(const char* data, size_t size) override {
    while (size > 0) {
      size_t written = 0;
      if (SSL_write_ex(ssl_.get(), data, size, &written) != 1) fail("lost the connection to");
      data += written;
      size -= written;
    }
  }

  size_t read_some(char* data, size_t size) override {
    size_t n = 0;
    if (SSL_read_ex(ssl_.get(), data, size, &n) == 1) return n;
    int err = SSL_get_error(ssl_.get(), 0);
    if (err == SSL_ERROR_ZERO_RETURN) fail("connection closed by");
    fail("lost the connection to");
  }

private:
  [[noreturn]] void fail(const char* what) {
    unsigned long code = 0;
    auto why = openssl_error(&code);
    // With TLS 1.3 a refused client certificate shows here, on the first read.
    if (certificate_refused(code))
      throw error(failure_code::auth, "redis at " + peer_ +
                                        " refused the client certificate (tls): " + why);
    // The server's alert can be lost when it resets the connection first:
    // then only a hint is possible.
    if (code == 0 && !client_certificate_)
      why += " (does the server require a client certificate? ssl.key-store is not set)";
    throw error(failure_code::connection, std::string(what) + " redis at " + peer_ + " (tls): " + why);
  }

  int fd_;
  ctx_ptr ctx_;
  ssl_ptr ssl_;
  std::string peer_;
  bool client_certificate_;
};

}  // namespace

std::unique_ptr<transport> connect_tls(const std::string& host, int port,
                                       const ssl_config& ssl, int timeout_ms,
                                       int read_timeout_ms) {
  std::string peer = host + ":" + std::to_string(port);
  ctx_ptr ctx{SSL_CTX_new(TLS_client_method()), &SSL_CTX_free};
  if (!ctx) throw error(failure_code::internal, "cannot create a TLS context: " + openssl_error());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  // The server is always verified: with a trust store against its CAs,
  // otherwise against the system's.
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (ssl.trust_store)
    load_trust_store(ctx.get(), *ssl.trust_store);
  else
    SSL_CTX_set_default_verify_paths(ctx.get());
  if (ssl.key_store) load_key_store(ctx.get(), *ssl.key_store);

  int fd = open_tcp_socket(host, port, timeout_ms, read_timeout_ms);
  ssl_ptr s{SSL_new(ctx.get()), &SSL_free};
  if (!s) {
    ::close(fd);
    throw error(failure_code::internal, "cannot create a TLS session: " + openssl_error());
  }
  SSL_set_fd(s.get(), fd);
  SSL_set_tlsext_host_name(s.get(), host.c_str());
  // The certificate must name the host we dialled (DNS name or IP address).
  SSL_set1_host(s.get(), host.c_str());
  // The handshake gets the connect timeout: a server that does not speak TLS
  // (a plain-text port) never answers the ClientHello.
  set_socket_timeouts(fd, timeout_ms);
  int connected = SSL_connect(s.get());
  set_socket_timeouts(fd, read_timeout_ms);
  if (connected != 1) {
    long verify = SSL_get_verify_result(s.get());
    unsigned long code = 0;
    std::string why = openssl_error(&code);
    if (verify != X509_V_OK) why = X509_verify_cert_error_string(verify);
    if (why == "unknown TLS error") why = "no TLS answer within " + std::to_string(timeout_ms) + " ms (is this a TLS port?)";
    s.reset();
    ::close(fd);
    // A certificate either side refuses stays refused: not retried.
    bool permanent = verify != X509_V_OK || certificate_refused(code);
    throw error(permanent ? failure_code::auth : failure_code::connection,
                "tls handshake with redis at " + peer + " failed: " + why +
                  (permanent ? " (a certificate problem, not retried)" : ""));
  }
  return std::make_unique<tls_transport>(fd, std::move(ctx), std::move(s), peer,
                                         ssl.key_store.has_value());
}

}  // namespace trib
