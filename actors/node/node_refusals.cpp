#include "actors/node/node_refusals.hpp"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <deque>
#include <mutex>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "actors/log.hpp"

namespace trib {

namespace {

std::mutex refusals_mutex;
std::deque<node_refusal> refusals;  // the last few hundred, for connect_node
uint64_t refusal_seq = 0;
constexpr size_t kept_refusals = 256;

std::string peer_of(const SSL* ssl, uint16_t& port) {
  port = 0;
  int fd = SSL_get_fd(ssl);
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (fd < 0 || getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return "an unknown address";
  char host[INET6_ADDRSTRLEN] = "?";
  if (addr.ss_family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    port = ntohs(a->sin_port);
    return std::string(host) + ":" + std::to_string(port);
  }
  if (addr.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    port = ntohs(a->sin6_port);
    return "[" + std::string(host) + "]:" + std::to_string(port);
  }
  return "an unknown address";
}

// One refusal per session: the verify callback and the alert it causes
// would otherwise both report it.
int reported_index() {
  static int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// The peer's address as the handshake started: by the time its alert is
// read, the peer may have closed the connection and getpeername fails.
struct peer_address {
  std::string text;
  uint16_t port = 0;
};

void free_peer(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<peer_address*>(ptr);
}

int peer_index() {
  static int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, free_peer);
  return index;
}

void note_peer(SSL* ssl) {
  if (SSL_get_ex_data(ssl, peer_index()) != nullptr) return;
  auto* p = new peer_address;
  p->text = peer_of(ssl, p->port);
  if (SSL_set_ex_data(ssl, peer_index(), p) != 1) delete p;
}

void report(SSL* ssl, bool we_refused, const std::string& reason) {
  if (SSL_get_ex_data(ssl, reported_index()) != nullptr) return;
  static char marker;
  SSL_set_ex_data(ssl, reported_index(), &marker);
  node_refusal r;
  if (auto* p = static_cast<peer_address*>(SSL_get_ex_data(ssl, peer_index()))) {
    r.peer = p->text;
    r.peer_port = p->port;
  } else {
    r.peer = peer_of(ssl, r.peer_port);
  }
  r.we_refused = we_refused;
  r.reason = reason;
  {
    std::lock_guard<std::mutex> lock{refusals_mutex};
    r.seq = refusal_seq++;
    refusals.push_back(r);
    if (refusals.size() > kept_refusals) refusals.pop_front();
  }
  if (we_refused)
    log::warn("refused the node at " + r.peer + ": " + reason);
  else
    log::warn("was refused by the node at " + r.peer + ": " + reason);
}

std::string subject_of(X509* cert) {
  if (!cert) return "no subject";
  char name[256] = "";
  X509_NAME_oneline(X509_get_subject_name(cert), name, sizeof name);
  std::string s = name;
  // "/CN=old" reads better as "CN=old".
  if (!s.empty() && s[0] == '/') s.erase(0, 1);
  return s;
}

int verify_peer(int ok, X509_STORE_CTX* store) {
  if (ok) return ok;
  auto* ssl = static_cast<SSL*>(
    X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  if (!ssl) return ok;
  int code = X509_STORE_CTX_get_error(store);
  std::string why = X509_verify_cert_error_string(code);
  std::string cert = "its certificate (" + subject_of(X509_STORE_CTX_get0_cert(store)) + ")";
  if (code == X509_V_ERR_CERT_HAS_EXPIRED || code == X509_V_ERR_CERT_NOT_YET_VALID)
    report(ssl, true, cert + " is not valid now (" + why + ")");
  else
    report(ssl, true, cert + " is not signed by this node's CA (" + why + ")");
  return ok;
}

// TLS alert numbers (RFC 8446 section 6) that concern certificates.
constexpr int alert_bad_certificate = 42;
constexpr int alert_certificate_revoked = 44;
constexpr int alert_certificate_expired = 45;
constexpr int alert_certificate_unknown = 46;
constexpr int alert_unknown_ca = 48;
constexpr int alert_handshake_failure = 40;
constexpr int alert_certificate_required = 116;

bool about_certificates(int alert) {
  return (alert >= alert_bad_certificate && alert <= alert_certificate_unknown) ||
         alert == alert_unknown_ca || alert == alert_certificate_required;
}

std::string alert_text(int alert) {
  // OpenSSL 3.0 has no text for 116.
  if (alert == alert_certificate_required) return "certificate required";
  return SSL_alert_desc_string_long(alert);
}

void watch_alerts(const SSL* cssl, int where, int ret) {
  auto* ssl = const_cast<SSL*>(cssl);
  if (where & SSL_CB_HANDSHAKE_START) note_peer(ssl);
  if (!(where & SSL_CB_ALERT)) return;
  if ((ret >> 8) != SSL3_AL_FATAL) return;  // close_notify and warnings
  int alert = ret & 0xff;
  bool handshaking = !SSL_is_init_finished(ssl);
  if (where & SSL_CB_WRITE) {
    // This node's verdict on a certificate is reported by verify_peer; the
    // alerts left that mean a refusal are these. Others (a decode error on
    // a connection torn down mid-record, say) are broken sessions.
    if (!handshaking) return;
    if (alert == alert_certificate_required)
      report(ssl, true, "it presented no certificate (a node must present one signed by "
                        "this node's CA)");
    else if (alert == alert_handshake_failure)
      report(ssl, true, "its TLS offer has nothing in common with this node's (a peer "
                        "without a certificate, in anonymous TLS?)");
    else if (about_certificates(alert))
      report(ssl, true, "the TLS handshake failed (" + alert_text(alert) + ")");
    return;
  }
  // With TLS 1.3 a client's handshake is over before the server has checked
  // the client's certificate: its verdict arrives as an alert afterwards.
  if (!handshaking && !about_certificates(alert)) return;
  std::string why = alert_text(alert);
  if (alert == alert_unknown_ca)
    report(ssl, false, "it does not trust this node's CA (" + why + ")");
  else if (alert == alert_certificate_expired)
    report(ssl, false, "it finds this node's certificate expired (" + why + ")");
  else if (about_certificates(alert))
    report(ssl, false, "it does not accept this node's certificate (" + why + ")");
  else
    report(ssl, false, "the TLS handshake failed (" + why + ")");
}

std::atomic<bool> watching{false};

}  // namespace

bool watch_node_handshakes() { return watching.load(); }

uint64_t next_node_refusal() {
  std::lock_guard<std::mutex> lock{refusals_mutex};
  return refusal_seq;
}

std::vector<node_refusal> node_refusals_since(uint64_t from, uint16_t port) {
  std::lock_guard<std::mutex> lock{refusals_mutex};
  std::vector<node_refusal> out;
  for (auto& r : refusals)
    if (r.seq >= from && (port == 0 || r.peer_port == port)) out.push_back(r);
  return out;
}

}  // namespace trib

// CAF's OpenSSL module sets up each node session's context with
// SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
// nullptr) and offers no hook of its own. This definition in the program
// comes before libssl's in the dynamic linker's order, so that call lands
// here: a context that requires the peer's certificate (only the node
// sessions ask for that; the Redis TLS transport does not) gets the watch's
// callbacks, which only report and never change a verdict. Everything else
// passes through unchanged to libssl.
extern "C" void SSL_CTX_set_verify(SSL_CTX* ctx, int mode, SSL_verify_cb cb) {
  using set_verify_fn = void (*)(SSL_CTX*, int, SSL_verify_cb);
  static auto real = reinterpret_cast<set_verify_fn>(dlsym(RTLD_NEXT, "SSL_CTX_set_verify"));
  if ((mode & SSL_VERIFY_FAIL_IF_NO_PEER_CERT) && cb == nullptr) {
    cb = trib::verify_peer;
    SSL_CTX_set_info_callback(ctx, trib::watch_alerts);
    trib::watching = true;
  }
  real(ctx, mode, cb);
}
