// Configuration loading: the sample files, the documented defaults, and one
// test per kind of mistake, each checking the file:line:col, key path and
// wording of the single-line error.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <unistd.h>

#include <gtest/gtest.h>

#include <climits>

#include "conf/loader.hpp"

namespace fs = std::filesystem;
using namespace trib;

namespace {

class config_test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("trib_config_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  /// Writes `text` to a fresh file and returns its path.
  std::string write(const std::string& text, const std::string& name = "c.yaml") {
    auto path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }

  /// Runs `load` and returns the message of the configuration error it must throw.
  static std::string error_of(const std::function<void()>& load) {
    try {
      load();
    } catch (const trib::error& e) {
      EXPECT_EQ(e.code(), failure_code::config);
      std::string msg = e.what();
      EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
      return msg;
    }
    ADD_FAILURE() << "no error thrown";
    return "";
  }

  fs::path dir_;
};

std::string source_dir() { return TRIB_SOURCE_DIR; }

redis_config target(const std::string& path) { return load_target(path); }

}  // namespace

// -- the sample files -------------------------------------------------------

TEST_F(config_test, every_sample_file_under_conf_loads) {
  const std::map<std::string, std::function<void(const std::string&)>> loaders{
    {"conn", [](const std::string& p) { load_connection(p); }},
    {"src", [](const std::string& p) { load_extractor(p); }},
    {"dst", [](const std::string& p) { load_applier(p); }},
    {"filter", [](const std::string& p) { load_filter(p); }},
    {"mapper", [](const std::string& p) { load_map(p); }},
  };
  std::map<std::string, int> loaded;
  for (const auto& entry : fs::recursive_directory_iterator(source_dir() + "/conf")) {
    if (entry.path().extension() != ".yaml") continue;
    std::string kind = entry.path().parent_path().filename().string();
    auto loader = loaders.find(kind);
    ASSERT_NE(loader, loaders.end()) << "no loader for " << entry.path();
    EXPECT_NO_THROW(loader->second(entry.path().string())) << entry.path();
    ++loaded[kind];
  }
  for (const auto& [kind, load] : loaders) EXPECT_GT(loaded[kind], 0) << "no sample in conf/" << kind;
  EXPECT_GE(loaded["conn"], 4);
}

TEST_F(config_test, sample_connections_point_at_the_local_test_servers) {
  auto pg = load_source(source_dir() + "/conf/conn/postgresql.yaml");
  EXPECT_EQ(pg.kind, source_kind::postgresql);
  EXPECT_EQ(pg.host, "127.0.0.1");
  EXPECT_EQ(pg.port, 55432);
  EXPECT_EQ(pg.database, "tpch");
  EXPECT_EQ(pg.username, "tributary");
  EXPECT_EQ(pg.password, "tributary");
  ASSERT_EQ(pg.replication_slots.count("tributary_slot"), 1u);
  EXPECT_EQ(pg.replication_slots.at("tributary_slot"), std::vector<std::string>{"pgoutput"});

  auto maria = load_source(source_dir() + "/conf/conn/mariadb.yaml");
  EXPECT_EQ(maria.kind, source_kind::mariadb);
  EXPECT_EQ(maria.port, 53306);
  EXPECT_EQ(maria.slave_server_ids, std::vector<int64_t>{101});

  auto redis = target(source_dir() + "/conf/conn/redis_stream.yaml");
  EXPECT_EQ(redis.port, 56379);
  EXPECT_FALSE(redis.ssl.enable);

  auto cluster = target(source_dir() + "/conf/conn/redis_stream_cluster.yaml");
  EXPECT_TRUE(cluster.cluster);
  EXPECT_EQ(cluster.port, 56979);
  EXPECT_EQ(cluster.cluster_seeds.size(), 2u);
  EXPECT_EQ(cluster.wait_replicas, 1);

  auto p12 = target(source_dir() + "/conf/conn/redis_stream_ssl_pkcs12.yaml");
  ASSERT_TRUE(p12.ssl.key_store);
  EXPECT_EQ(p12.ssl.key_store->store_type, "PKCS12");
  EXPECT_EQ(p12.ssl.key_store->path, "/tmp/tributary-run/tls/client.p12");
  EXPECT_EQ(p12.ssl.key_store->password, "changeit");

  auto tls = target(source_dir() + "/conf/conn/redis_stream_ssl.yaml");
  EXPECT_EQ(tls.port, 56380);
  EXPECT_TRUE(tls.ssl.enable);
  ASSERT_TRUE(tls.ssl.trust_store && tls.ssl.key_store);
  EXPECT_EQ(tls.ssl.trust_store->store_type, "PEM");
  EXPECT_EQ(tls.ssl.trust_store->path, "/tmp/tributary-run/tls/ca.crt");
  EXPECT_EQ(tls.ssl.key_store->store_type, "PEM");
  EXPECT_EQ(tls.ssl.key_store->path, "/tmp/tributary-run/tls/client.crt");
  EXPECT_EQ(tls.ssl.key_store->key_path, "/tmp/tributary-run/tls/client.key");
}

TEST_F(config_test, sample_applier_has_the_arcion_reference_values) {
  auto a = load_applier(source_dir() + "/conf/dst/redis_stream.yaml");
  EXPECT_EQ(a.snapshot.threads, 32);
  EXPECT_EQ(a.snapshot.batch_size_rows, 10000);
  EXPECT_EQ(a.snapshot.txn_size_rows, 1000000);
  EXPECT_EQ(a.realtime.threads, 16);
  EXPECT_EQ(a.realtime.consistency, replay_consistency::global);
  EXPECT_EQ(a.realtime.txn_size_rows, 10000);
  EXPECT_EQ(a.realtime.batch_size_rows, 1000);
}

TEST_F(config_test, sample_filters_name_the_tpch_tables) {
  auto pg = load_filter(source_dir() + "/conf/filter/postgresql.yaml");
  ASSERT_EQ(pg.allow.size(), 1u);
  EXPECT_EQ(pg.allow[0].catalog, "tpch");
  EXPECT_EQ(pg.allow[0].schema, "public");
  for (const char* t : {"region", "nation", "customer", "orders"})
    EXPECT_EQ(pg.allow[0].tables.count(t), 1u) << t;
  auto maria = load_filter(source_dir() + "/conf/filter/mariadb.yaml");
  ASSERT_EQ(maria.allow.size(), 1u);
  EXPECT_EQ(maria.allow[0].catalog, "tpch");
  EXPECT_EQ(maria.allow[0].schema, "");
}

TEST_F(config_test, arcion_reference_snippets_load_as_they_are) {
  std::string d = source_dir() + "/tests/data/config/arcion/";
  auto plain = target(d + "conn_without_ssl.yaml");
  EXPECT_EQ(plain.host, "HOSTNAME");
  EXPECT_EQ(plain.username, "USERNAME");
  EXPECT_EQ(plain.max_connections, 30);
  EXPECT_EQ(plain.max_retries, 10);

  auto trust = target(d + "conn_with_ssl_trust_store.yaml");
  ASSERT_TRUE(trust.ssl.trust_store);
  EXPECT_FALSE(trust.ssl.key_store);
  // Arcion's documentation spells the type PKS12.
  EXPECT_EQ(trust.ssl.trust_store->store_type, "PKCS12");

  auto both = target(d + "conn_with_ssl.yaml");
  EXPECT_TRUE(both.ssl.enable);
  ASSERT_TRUE(both.ssl.key_store);
  EXPECT_EQ(both.ssl.key_store->path, "PATH_TO_KEYSTORE");
  EXPECT_EQ(both.ssl.key_store->password, "KEYSTORE_PASSWORD");
  EXPECT_EQ(both.ssl.key_store->store_type, "PKCS12");

  auto snap = load_applier(d + "applier_snapshot.yaml");
  EXPECT_EQ(snap.snapshot.batch_size_rows, 10000);
  EXPECT_EQ(snap.snapshot.txn_size_rows, 1000000);
  auto real = load_applier(d + "applier_realtime.yaml");
  EXPECT_EQ(real.realtime.consistency, replay_consistency::global);
}

// -- defaults ---------------------------------------------------------------

TEST_F(config_test, redis_defaults_are_the_documented_ones) {
  auto r = target(write("type: REDIS_STREAM\n"));
  EXPECT_EQ(r.port, 6379);
  EXPECT_EQ(r.max_connections, 30);
  EXPECT_EQ(r.max_retries, 10);
  EXPECT_EQ(r.retry_wait_duration_ms, 1000);
  EXPECT_FALSE(r.ssl.enable);
  EXPECT_EQ(r.memory_threshold_percentage, 85);
}

TEST_F(config_test, cluster_mode_reads_its_seeds_and_wait_settings) {
  auto r = target(write("type: REDIS_STREAM\n"));
  EXPECT_FALSE(r.cluster);
  EXPECT_EQ(r.wait_replicas, 0);
  EXPECT_EQ(r.wait_timeout_ms, 1000);
  auto c = target(write("type: REDIS_STREAM\nmode: CLUSTER\ncluster-seeds: [10.0.0.2:7001, "
                        "redis-3:7002]\nwait-replicas: 1\nwait-timeout-ms: 250\n"));
  EXPECT_TRUE(c.cluster);
  EXPECT_EQ(c.cluster_seeds, (std::vector<std::string>{"10.0.0.2:7001", "redis-3:7002"}));
  EXPECT_EQ(c.wait_replicas, 1);
  EXPECT_EQ(c.wait_timeout_ms, 250);
  auto bad_mode = write("type: REDIS_STREAM\nmode: SENTINEL\n");
  EXPECT_NE(error_of([&] { target(bad_mode); }).find(bad_mode + ":2:7: mode:"), std::string::npos);
  auto bad_seed = write("type: REDIS_STREAM\nmode: CLUSTER\ncluster-seeds: [redis-3]\n");
  EXPECT_EQ(error_of([&] { target(bad_seed); }),
            bad_seed + ":3:17: cluster-seeds[0]: 'redis-3' is not host:port");
  auto no_mode = write("type: REDIS_STREAM\ncluster-seeds: [redis-3:7000]\n");
  EXPECT_EQ(error_of([&] { target(no_mode); }),
            no_mode + ":2:16: cluster-seeds: needs mode: CLUSTER");
}

TEST_F(config_test, memory_threshold_percentage_is_a_share_of_maxmemory) {
  EXPECT_EQ(target(write("type: REDIS_STREAM\nmemory-threshold-percentage: 0\n"))
              .memory_threshold_percentage, 0);
  EXPECT_EQ(target(write("type: REDIS_STREAM\nmemory-threshold-percentage: 60\n"))
              .memory_threshold_percentage, 60);
  auto f = write("type: REDIS_STREAM\nmemory-threshold-percentage: 120\n");
  EXPECT_EQ(error_of([&] { target(f); }),
            f + ":2:30: memory-threshold-percentage: 120 is out of range: must be between 0 "
                "and 100");
  auto g = write("type: POSTGRESQL\ndatabase: d\nmemory-threshold-percentage: 50\n");
  EXPECT_EQ(error_of([&] { load_source(g); }),
            g + ":3:1: memory-threshold-percentage: unknown key here (it belongs to "
                "REDIS_STREAM connections)");
}

TEST_F(config_test, trimming_takes_a_length_and_a_mode) {
  auto a = load_applier(write(""));
  EXPECT_EQ(a.trim.mode, trim_mode::never);
  EXPECT_EQ(a.trim.max_length, 0u);
  a = load_applier(write("stream-max-length: 1000\ntrim: approximate\n"));
  EXPECT_EQ(a.trim.mode, trim_mode::approximate);
  EXPECT_EQ(a.trim.max_length, 1000u);
  EXPECT_EQ(load_applier(write("stream-max-length: 5\ntrim: ACKED\n")).trim.mode,
            trim_mode::acked);
  auto f = write("trim: ACKED\n");
  EXPECT_EQ(error_of([&] { load_applier(f); }),
            f + ":1:7: trim: trimming needs stream-max-length: N (the entries a stream keeps)");
  auto g = write("stream-max-length: 0\ntrim: ACKED\n");
  EXPECT_EQ(error_of([&] { load_applier(g); }),
            g + ":1:20: stream-max-length: 0 is out of range: must be at least 1");
  auto h = write("stream-max-length: 10\ntrim: SOMETIMES\n");
  EXPECT_NE(error_of([&] { load_applier(h); }).find("trim"), std::string::npos);
}

TEST_F(config_test, the_consumer_lag_bound_is_off_unless_given_a_positive_count) {
  EXPECT_EQ(load_applier(write("")).max_consumer_lag, 0u);
  EXPECT_EQ(load_applier(write("max-consumer-lag: 5000\n")).max_consumer_lag, 5000u);
  auto f = write("max-consumer-lag: 0\n");
  EXPECT_EQ(error_of([&] { load_applier(f); }),
            f + ":1:19: max-consumer-lag: 0 is out of range: must be at least 1");
  auto g = write("max-consumer-lag: lots\n");
  EXPECT_NE(error_of([&] { load_applier(g); }).find("max-consumer-lag: expected an integer"),
            std::string::npos);
}

TEST_F(config_test, source_ports_default_by_database) {
  EXPECT_EQ(load_source(write("type: POSTGRESQL\ndatabase: d\n")).port, 5432);
  EXPECT_EQ(load_source(write("type: mariadb\n")).port, 3306);
  EXPECT_EQ(load_source(write("type: MYSQL\n")).kind, source_kind::mysql);
}

TEST_F(config_test, empty_optional_files_give_the_documented_defaults) {
  auto a = load_applier(write(""));
  EXPECT_EQ(a.realtime.consistency, replay_consistency::eventual);
  EXPECT_TRUE(a.split_stream);
  EXPECT_TRUE(a.snapshot.skip_tables_on_failures);
  EXPECT_EQ(a.message.codes, op_codes::debezium);
  EXPECT_TRUE(a.message.include_schema);
  EXPECT_EQ(a.message.decimals, decimal_handling::string);
  EXPECT_EQ(a.message.connector_name, "REDIS_STREAM_Connector");

  auto m = load_map(write("# nothing\n"));
  EXPECT_EQ(m.delimiter, name_delimiter::underscore);
  EXPECT_EQ(m.name_case, convert_case::keep);

  EXPECT_FALSE(load_filter(write("")).given());
  EXPECT_FALSE(load_extractor(write("snapshot:\n")).realtime.start_position.given());
}

// -- each kind of mistake ---------------------------------------------------

TEST_F(config_test, unknown_key_names_place_and_path_and_suggests_the_nearest) {
  auto f = write("snapshot:\n  threads: 4\n  batch-size-row: 5\n");
  EXPECT_EQ(error_of([&] { load_applier(f); }),
            f + ":3:3: snapshot.batch-size-row: unknown key (did you mean 'batch-size-rows'?)");

  auto g = write("type: REDIS_STREAM\nhots: localhost\n");
  EXPECT_EQ(error_of([&] { target(g); }), g + ":2:1: hots: unknown key (did you mean 'host'?)");
}

TEST_F(config_test, unknown_key_far_from_every_valid_one_gets_no_suggestion) {
  auto f = write("type: REDIS_STREAM\nsocket-timeout-s: 60\n");
  EXPECT_EQ(error_of([&] { target(f); }), f + ":2:1: socket-timeout-s: unknown key");
}

TEST_F(config_test, key_of_another_connection_type_is_unknown) {
  auto f = write("type: REDIS_STREAM\ndatabase: x\n");
  EXPECT_EQ(error_of([&] { target(f); }),
            f + ":2:1: database: unknown key here (it belongs to POSTGRESQL connections)");
  auto g = write("type: POSTGRESQL\ndatabase: d\nslave-server-ids: [1]\n");
  EXPECT_EQ(error_of([&] { load_source(g); }),
            g + ":3:1: slave-server-ids: unknown key here (it belongs to MYSQL and MARIADB connections)");
}

TEST_F(config_test, wrong_type_names_what_was_expected) {
  auto f = write("type: REDIS_STREAM\nhost: h\nport: abc\n");
  EXPECT_EQ(error_of([&] { target(f); }), f + ":3:7: port: expected an integer, got 'abc'");

  auto g = write("realtime:\n  threads: [1, 2]\n");
  EXPECT_EQ(error_of([&] { load_applier(g); }),
            g + ":2:12: realtime.threads: expected an integer, got a list");

  auto h = write("snapshot: 5\n");
  EXPECT_EQ(error_of([&] { load_applier(h); }), h + ":1:11: snapshot: expected a map, got '5'");

  auto b = write("split-stream: maybe\n");
  EXPECT_EQ(error_of([&] { load_applier(b); }),
            b + ":1:15: split-stream: expected true or false, got 'maybe'");
}

TEST_F(config_test, missing_required_key_points_at_its_parent) {
  auto f = write("type: POSTGRESQL\nhost: h\n");
  EXPECT_EQ(error_of([&] { load_source(f); }), f + ":1:1: database: missing required key");

  auto g = write("host: h\n");
  auto msg = error_of([&] { load_connection(g); });
  EXPECT_EQ(msg.rfind(g + ":1:1: type: missing required key", 0), 0u) << msg;

  auto h = write("allow:\n- schema: public\n");
  EXPECT_EQ(error_of([&] { load_filter(h); }), h + ":2:3: allow[0].catalog: missing required key");
}

TEST_F(config_test, out_of_range_values_are_refused) {
  auto f = write("type: REDIS_STREAM\nport: 70000\n");
  EXPECT_EQ(error_of([&] { target(f); }),
            f + ":2:7: port: 70000 is out of range: must be between 1 and 65535");

  auto g = write("snapshot:\n  threads: 0\n");
  EXPECT_EQ(error_of([&] { load_applier(g); }),
            g + ":2:12: snapshot.threads: 0 is out of range: must be at least 1");

  auto h = write("type: REDIS_STREAM\nmax-retries: -1\n");
  EXPECT_EQ(error_of([&] { target(h); }),
            h + ":2:14: max-retries: -1 is out of range: must be at least 0");
}

TEST_F(config_test, a_number_above_the_maximum_names_the_maximum) {
  auto f = write("snapshot:\n  threads: 1_000_000_000_000\n");
  EXPECT_EQ(error_of([&] { load_applier(f); }),
            f + ":2:12: snapshot.threads: 1_000_000_000_000 is out of range: must be at most " +
              std::to_string(INT_MAX));
  auto g = write("snapshot:\n  threads: 99999999999999999999999\n");
  EXPECT_EQ(error_of([&] { load_applier(g); }),
            g + ":2:12: snapshot.threads: 99999999999999999999999 is out of range: must be at "
                "most " + std::to_string(INT_MAX));
}

TEST_F(config_test, malformed_yaml_names_the_place) {
  auto f = write("snapshot:\n  threads: [1, 2\n");
  auto msg = error_of([&] { load_applier(f); });
  EXPECT_EQ(msg.rfind(f + ":", 0), 0u) << msg;
  EXPECT_NE(msg.find("malformed YAML"), std::string::npos) << msg;
}

TEST_F(config_test, tab_indentation_is_named_as_the_cause) {
  auto f = write("snapshot:\n\tthreads: 1\n");
  auto msg = error_of([&] { load_applier(f); });
  EXPECT_EQ(msg.rfind(f + ":2:", 0), 0u) << msg;
  EXPECT_NE(msg.find("line 2 is indented with a tab"), std::string::npos) << msg;
}

TEST_F(config_test, missing_file_is_named) {
  auto path = (dir_ / "absent.yaml").string();
  EXPECT_EQ(error_of([&] { load_applier(path); }), path + ": cannot read: no such file");
  EXPECT_EQ(error_of([&] { load_map(dir_.string()); }), dir_.string() + ": cannot read: is a directory");
}

TEST_F(config_test, repeated_key_is_refused) {
  auto f = write("type: REDIS_STREAM\nport: 1\nport: 2\n");
  EXPECT_EQ(error_of([&] { target(f); }), f + ":3:1: port: key given twice");
}

TEST_F(config_test, wrong_kind_of_connection_file_is_refused) {
  auto redis = write("type: REDIS_STREAM\n", "r.yaml");
  EXPECT_NE(error_of([&] { load_source(redis); }).find(redis + ":1:7: type: REDIS_STREAM is a target"),
            std::string::npos);
  auto pg = write("type: POSTGRESQL\ndatabase: d\n", "p.yaml");
  EXPECT_NE(error_of([&] { target(pg); }).find(pg + ":1:7: type: POSTGRESQL is a source"),
            std::string::npos);
}

// -- values -----------------------------------------------------------------

TEST_F(config_test, environment_variables_are_substituted_anywhere_in_a_value) {
  ::setenv("TRIB_TEST_SECRET", "s3cret", 1);
  ::setenv("TRIB_TEST_PORT", "6390", 1);
  auto r = target(write("type: REDIS_STREAM\nport: ${TRIB_TEST_PORT}\n"
                        "password: 'pre-${TRIB_TEST_SECRET}-${TRIB_TEST_SECRET}'\n"));
  EXPECT_EQ(r.port, 6390);
  EXPECT_EQ(r.password, "pre-s3cret-s3cret");
  ::unsetenv("TRIB_TEST_SECRET");
  ::unsetenv("TRIB_TEST_PORT");
}

TEST_F(config_test, unset_environment_variable_is_an_error_naming_it) {
  ::unsetenv("TRIB_TEST_UNSET");
  auto f = write("type: REDIS_STREAM\nhost: h\npassword: ${TRIB_TEST_UNSET}\n");
  EXPECT_EQ(error_of([&] { target(f); }),
            f + ":3:11: password: environment variable 'TRIB_TEST_UNSET' is not set");
  auto g = write("type: REDIS_STREAM\npassword: ${TRIB_TEST_UNSET\n");
  EXPECT_NE(error_of([&] { target(g); }).find("unterminated"), std::string::npos);
}

TEST_F(config_test, underscores_group_digits_of_integers) {
  auto a = load_applier(write("snapshot:\n  batch-size-rows: 10_000\n  txn-size-rows: 1_000_000\n"));
  EXPECT_EQ(a.snapshot.batch_size_rows, 10000);
  EXPECT_EQ(a.snapshot.txn_size_rows, 1000000);
  for (const char* bad : {"_100", "100_", "1__0", "1_0x"}) {
    auto f = write(std::string("snapshot:\n  threads: ") + bad + "\n");
    EXPECT_EQ(error_of([&] { load_applier(f); }),
              f + ":2:12: snapshot.threads: expected an integer, got '" + bad + "'");
  }
}

TEST_F(config_test, jks_store_is_refused_with_the_keytool_conversion) {
  auto f = write("type: REDIS_STREAM\nssl:\n  enable: true\n  trust-store:\n"
                 "    path: /x/ts.jks\n    ssl-store-type: JKS\n");
  auto msg = error_of([&] { target(f); });
  EXPECT_EQ(msg.rfind(f + ":6:21: ssl.trust-store.ssl-store-type: JKS", 0), 0u) << msg;
  EXPECT_NE(msg.find("keytool -importkeystore -srckeystore /x/ts.jks -srcstoretype JKS "
                     "-destkeystore /x/ts.jks.p12 -deststoretype PKCS12"),
            std::string::npos)
    << msg;
}

TEST_F(config_test, unknown_store_type_lists_the_supported_ones) {
  auto f = write("type: REDIS_STREAM\nssl:\n  key-store:\n    path: k\n    ssl-store-type: DER\n");
  EXPECT_EQ(error_of([&] { target(f); }),
            f + ":5:21: ssl.key-store.ssl-store-type: 'DER' is not one of PKCS12, PEM");
}

TEST_F(config_test, pem_key_store_takes_one_file_or_a_cert_key_pair) {
  auto one = target(write("type: REDIS_STREAM\nssl:\n  key-store:\n    path: c.pem\n"
                          "    ssl-store-type: PEM\n"));
  EXPECT_EQ(one.ssl.key_store->path, "c.pem");
  EXPECT_EQ(one.ssl.key_store->key_path, "c.pem");
  auto f = write("type: REDIS_STREAM\nssl:\n  key-store:\n    path: [a, b, c]\n"
                 "    ssl-store-type: PEM\n");
  EXPECT_EQ(error_of([&] { target(f); }),
            f + ":4:11: ssl.key-store.path: a PEM key store lists [CERT_FILE, KEY_FILE]");
}

TEST_F(config_test, wrong_enum_value_lists_the_allowed_values) {
  auto f = write("realtime:\n  replay-consistency: LOCAL\n");
  EXPECT_EQ(error_of([&] { load_applier(f); }),
            f + ":2:23: realtime.replay-consistency: 'LOCAL' is not one of GLOBAL, EVENTUAL");
  auto g = write("message:\n  decimal-handling: float\n");
  EXPECT_EQ(error_of([&] { load_applier(g); }),
            g + ":2:21: message.decimal-handling: 'float' is not one of STRING, PRECISE, DOUBLE");
  auto h = write("convert-case: CAMEL\n");
  EXPECT_EQ(error_of([&] { load_map(h); }),
            h + ":1:15: convert-case: 'CAMEL' is not one of DEFAULT, LOWERCASE, UPPERCASE");
  auto v = load_applier(write("message:\n  op-codes: verbose\n  decimal-handling: DOUBLE\n"));
  EXPECT_EQ(v.message.codes, op_codes::verbose);
  EXPECT_EQ(v.message.decimals, decimal_handling::dbl);
}

TEST_F(config_test, only_pgoutput_slots_are_supported) {
  auto f = write("type: POSTGRESQL\ndatabase: d\nreplication-slots:\n  s1: [wal2json]\n");
  EXPECT_EQ(error_of([&] { load_source(f); }),
            f + ":4:8: replication-slots.s1[0]: output plugin 'wal2json' is not supported; use pgoutput");
}

TEST_F(config_test, start_position_takes_exactly_one_form) {
  auto binlog = load_extractor(write("realtime:\n  start-position: {log: mysql-bin.000004, position: 1_337}\n"));
  EXPECT_EQ(binlog.realtime.start_position.log, "mysql-bin.000004");
  EXPECT_EQ(binlog.realtime.start_position.position, 1337u);
  auto lsn = load_extractor(write("realtime:\n  start-position:\n    lsn: 16/B374D848\n"));
  EXPECT_EQ(lsn.realtime.start_position.lsn, "16/B374D848");
  auto gtid = load_extractor(write("realtime:\n  start-position:\n    gtid: 0-1-42\n"));
  EXPECT_EQ(gtid.realtime.start_position.gtid, "0-1-42");

  auto both = write("realtime:\n  start-position:\n    gtid: 0-1-42\n    lsn: 0/1\n");
  EXPECT_EQ(error_of([&] { load_extractor(both); }),
            both + ":3:5: realtime.start-position: give one of {log, position}, {gtid} or {lsn}");
  auto half = write("realtime:\n  start-position:\n    log: mysql-bin.000004\n");
  EXPECT_EQ(error_of([&] { load_extractor(half); }),
            half + ":3:5: realtime.start-position.position: missing required key");
  auto bad = write("realtime:\n  start-position:\n    lsn: nowhere\n");
  EXPECT_EQ(error_of([&] { load_extractor(bad); }),
            bad + ":3:10: realtime.start-position.lsn: expected an LSN like 16/B374D848, got 'nowhere'");
}

TEST_F(config_test, extractor_per_table_config_is_read) {
  auto e = load_extractor(write("snapshot:\n  per-table-config:\n  - catalog: tpch\n    schema: public\n"
                                "    tables:\n      lineitem:\n        split-key: l_orderkey\n"
                                "        row-identifier-key: [l_orderkey, l_linenumber]\n"
                                "      part:\n"));
  ASSERT_EQ(e.snapshot.per_table_config.size(), 1u);
  const auto& cat = e.snapshot.per_table_config[0];
  EXPECT_EQ(cat.schema, "public");
  EXPECT_EQ(cat.tables.at("lineitem").split_key, "l_orderkey");
  EXPECT_EQ(cat.tables.at("lineitem").row_identifier_key,
            (std::vector<std::string>{"l_orderkey", "l_linenumber"}));
  EXPECT_EQ(cat.tables.count("part"), 1u);
}

TEST_F(config_test, filter_columns_come_as_a_list_or_a_map) {
  auto f = load_filter(write("allow:\n- catalog: tpch\n  schema: public\n  types: [TABLE]\n  allow:\n"
                             "    orders:\n      allow: [o_orderkey, o_custkey]\n"
                             "      conditions: \"o_orderkey < 10\"\n"
                             "    lineitem:\n      allow:\n        l_orderkey:\n        l_linenumber:\n"
                             "    region:\n"));
  ASSERT_EQ(f.allow.size(), 1u);
  const auto& t = f.allow[0].tables;
  EXPECT_EQ(t.at("orders").columns, (std::vector<std::string>{"o_orderkey", "o_custkey"}));
  EXPECT_EQ(t.at("orders").conditions, "o_orderkey < 10");
  EXPECT_EQ(t.at("lineitem").columns, (std::vector<std::string>{"l_orderkey", "l_linenumber"}));
  EXPECT_TRUE(t.at("region").columns.empty());

  auto g = write("allow:\n- catalog: tpch\n  allow:\n    orders:\n      alow: [a]\n");
  EXPECT_EQ(error_of([&] { load_filter(g); }),
            g + ":5:7: allow[0].allow.orders.alow: unknown key (did you mean 'allow'?)");
}

TEST(nearest_key, suggests_only_close_keys) {
  std::vector<std::string> keys{"host", "port", "max-connections", "retry-wait-duration-ms"};
  EXPECT_EQ(nearest_key("hots", keys), "host");
  EXPECT_EQ(nearest_key("PORT", keys), "port");
  EXPECT_EQ(nearest_key("max-conection", keys), "max-connections");
  EXPECT_EQ(nearest_key("retry-wait-duration", keys), "retry-wait-duration-ms");
  EXPECT_EQ(nearest_key("colour", keys), "");
  EXPECT_EQ(nearest_key("ab", keys), "");
}

TEST_F(config_test, signal_table_needs_its_table_name) {
  auto e = load_extractor(
    write("realtime:\n  signal-table: {catalog: shop, schema: ops, table-name: signals}\n"));
  EXPECT_EQ(e.realtime.signal_table.catalog, "shop");
  EXPECT_EQ(e.realtime.signal_table.schema, "ops");
  EXPECT_EQ(e.realtime.signal_table.table_name, "signals");
  EXPECT_TRUE(e.realtime.signal_table.given());
  EXPECT_FALSE(load_extractor(write("realtime:\n  threads: 1\n")).realtime.signal_table.given());
  auto none = write("realtime:\n  signal-table:\n    schema: ops\n");
  EXPECT_EQ(error_of([&] { load_extractor(none); }),
            none + ":3:5: realtime.signal-table.table-name: missing required key");
}
