#include "actors/node/node_tls.hpp"

#include <cstdio>
#include <filesystem>
#include <memory>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "messages/failure.hpp"

namespace trib {

namespace {

struct file_closer {
  void operator()(FILE* f) const { std::fclose(f); }
};
struct x509_free {
  void operator()(X509* x) const { X509_free(x); }
};
struct pkey_free {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct store_free {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
struct store_ctx_free {
  void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); }
};

[[noreturn]] void refuse(const std::string& what) {
  throw error(failure_code::config, "--node-tls: " + what);
}

std::unique_ptr<FILE, file_closer> open_file(const std::string& path, const char* role) {
  if (!std::filesystem::exists(path))
    refuse(path + " is missing (" + role + "); a node runs only with mutual TLS: see "
           "ops/node-certs.sh");
  std::unique_ptr<FILE, file_closer> f{std::fopen(path.c_str(), "r")};
  if (!f) refuse("cannot read " + path + " (" + role + ")");
  return f;
}

std::unique_ptr<X509, x509_free> read_cert(const std::string& path, const char* role) {
  auto f = open_file(path, role);
  std::unique_ptr<X509, x509_free> x{PEM_read_X509(f.get(), nullptr, nullptr, nullptr)};
  ERR_clear_error();
  if (!x) refuse(path + " holds no PEM certificate (" + role + ")");
  return x;
}

}  // namespace

node_tls_files check_node_tls(const std::string& dir) {
  if (dir.empty()) refuse("a directory with ca.pem, node.pem and node.key is required");
  if (!std::filesystem::is_directory(dir)) refuse(dir + " is not a directory");
  node_tls_files files;
  auto base = std::filesystem::path{dir};
  files.ca = (base / "ca.pem").string();
  files.cert = (base / "node.pem").string();
  files.key = (base / "node.key").string();
  auto ca = read_cert(files.ca, "the CA both ends trust");
  auto cert = read_cert(files.cert, "this node's certificate");
  std::unique_ptr<EVP_PKEY, pkey_free> key;
  {
    auto f = open_file(files.key, "this node's private key");
    key.reset(PEM_read_PrivateKey(f.get(), nullptr, nullptr, nullptr));
    ERR_clear_error();
    if (!key) refuse(files.key + " holds no PEM private key (or one with a passphrase)");
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    refuse(files.key + " is not the key of " + files.cert);
  }
  std::unique_ptr<X509_STORE, store_free> store{X509_STORE_new()};
  std::unique_ptr<X509_STORE_CTX, store_ctx_free> ctx{X509_STORE_CTX_new()};
  if (!store || !ctx || X509_STORE_add_cert(store.get(), ca.get()) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr) != 1)
    refuse("cannot set up the certificate check (out of memory?)");
  if (X509_verify_cert(ctx.get()) != 1) {
    int code = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    std::string why = X509_verify_cert_error_string(code);
    if (code == X509_V_ERR_CERT_HAS_EXPIRED || code == X509_V_ERR_CERT_NOT_YET_VALID)
      refuse(files.cert + " is not valid now (" + why + ")");
    refuse(files.cert + " is not signed by " + files.ca + " (" + why + ")");
  }
  return files;
}

std::string node_name_of(const node_tls_files& files) {
  auto cert = read_cert(files.cert, "this node's certificate");
  X509_NAME* subject = X509_get_subject_name(cert.get());
  int at = subject ? X509_NAME_get_index_by_NID(subject, NID_commonName, -1) : -1;
  if (at < 0) return "";
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, at));
  unsigned char* utf8 = nullptr;
  int n = ASN1_STRING_to_UTF8(&utf8, data);
  if (n < 0) return "";
  std::string name(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
  OPENSSL_free(utf8);
  return name;
}

}  // namespace trib
