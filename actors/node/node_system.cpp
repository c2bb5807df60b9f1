#include "actors/node/node_system.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include "actors/node/node_refusals.hpp"
#include "messages/failure.hpp"

namespace trib {

void configure_node(caf::actor_system_config& cfg, const node_tls_files& files) {
  watch_node_handshakes();
  cfg.load<caf::io::middleman>();
  cfg.load<caf::openssl::manager>();
  // With all three set CAF's sessions require and verify the peer's
  // certificate (SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT); with
  // none it would fall back to anonymous TLS, which check_node_tls rules out.
  cfg.openssl_certificate = files.cert;
  cfg.openssl_key = files.key;
  cfg.openssl_cafile = files.ca;
  // CAF's defaults are 0: no heartbeats, and a silent connection lives on.
  cfg.set("middleman.heartbeat-interval", caf::timespan{node_heartbeat});
  cfg.set("middleman.connection-timeout", caf::timespan{node_silence_limit});
}

node_address parse_node_address(const std::string& text, const char* option) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    throw error(failure_code::config,
                std::string(option) + " wants HOST:PORT, got '" + text + "'");
  node_address a;
  a.host = text.substr(0, colon);
  auto port = text.substr(colon + 1);
  unsigned long n = 0;
  try {
    size_t used = 0;
    n = std::stoul(port, &used);
    if (used != port.size()) n = 0;
  } catch (const std::exception&) {
    n = 0;
  }
  if (n == 0 || n > 65535)
    throw error(failure_code::config,
                std::string(option) + ": '" + port + "' is not a port (1 to 65535)");
  a.port = static_cast<uint16_t>(n);
  return a;
}

uint16_t publish_node(caf::actor_system& sys, const caf::actor& whom, const node_address& addr) {
  auto port = caf::openssl::publish(whom, addr.port, addr.host.c_str(), true);
  if (!port)
    throw error(failure_code::config, "--listen " + addr.host + ":" + std::to_string(addr.port) +
                                        ": cannot listen there (" + sys.render(port.error()) + ")");
  return *port;
}

caf::actor connect_node(caf::actor_system& sys, const node_address& addr, const char* option,
                        std::chrono::milliseconds timeout) {
  auto where = std::string(option) + " " + addr.host + ":" + std::to_string(addr.port);
  auto since = next_node_refusal();
  caf::scoped_actor self{sys};
  caf::strong_actor_ptr found;
  caf::error failed;
  // What caf::openssl::remote_actor asks the middleman, with a deadline.
  self
    ->request(sys.openssl_manager().actor_handle(), timeout, caf::connect_atom::value, addr.host,
              addr.port)
    .receive(
      [&](caf::node_id&, caf::strong_actor_ptr& ptr, std::set<std::string>&) {
        found = std::move(ptr);
      },
      [&](caf::error& e) { failed = std::move(e); });
  if (found) return caf::actor_cast<caf::actor>(found);
  if (!failed)
    throw error(failure_code::config, where + ": the node there publishes no actor");
  if (failed == caf::sec::request_timeout)
    throw error(failure_code::connection,
                where + ": no answer within " +
                  std::to_string(
                    std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) +
                  " s (nothing there speaks TLS to nodes, or the link is down)");
  // The watch saw why the handshake failed; CAF says only that it did.
  auto refused = node_refusals_since(since, addr.port);
  if (!refused.empty()) {
    auto& r = refused.back();
    throw error(failure_code::auth,
                where + (r.we_refused ? ": this node refused the node there: "
                                      : ": the node there refused this node: ") +
                  r.reason);
  }
  throw error(failure_code::connection, where + ": cannot connect (" + sys.render(failed) + ")");
}

}  // namespace trib
