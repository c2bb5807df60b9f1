#pragma once
// The certificates of a node (design section 11, --node-tls DIR), checked
// before CAF's OpenSSL module sees them. That module runs anonymous TLS when
// no certificate is configured and throws out of its connect when a key is
// missing, so a node refuses to start unless DIR holds a CA, a certificate
// the CA signed that is valid now, and its key. Free of CAF.

#include <string>

namespace trib {

/// The files of --node-tls DIR.
struct node_tls_files {
  std::string ca;    // DIR/ca.pem
  std::string cert;  // DIR/node.pem
  std::string key;   // DIR/node.key
};

/// Checks DIR: ca.pem, node.pem and node.key exist and parse, the key is
/// the certificate's, the CA signed the certificate and it is valid now.
/// Throws trib::error (config) naming the file and what is wrong.
node_tls_files check_node_tls(const std::string& dir);

/// The common name of the node's certificate (files.cert): the node's name
/// in logs and in the metrics' `node` label unless --node-name gives one.
/// "" when the certificate has no common name.
std::string node_name_of(const node_tls_files& files);

}  // namespace trib
