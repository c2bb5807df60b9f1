// The table readers of the MariaDB / MySQL session: keyset pages in key
// order, or one streamed pass over a table without order columns; see
// mariadb_session.hpp.

#include "actors/source/mariadb_session.hpp"
#include "actors/source/mariadb_text.hpp"
#include "messages/failure.hpp"

namespace trib::source_detail {

namespace {

/// How one result column becomes canonical text.
enum class conversion : uint8_t { plain, bits, timestamptz };

struct row_shape {
  std::vector<conversion> conv;
  std::vector<int32_t> bit_length;
};

row_shape shape_of(const table_schema& t) {
  row_shape s;
  for (const auto& c : t.columns) {
    s.conv.push_back(c.kind == value_kind::bits          ? conversion::bits
                     : c.kind == value_kind::timestamptz ? conversion::timestamptz
                                                         : conversion::plain);
    s.bit_length.push_back(c.precision);
  }
  return s;
}

std::string select_list(const table_schema& t) {
  std::string out;
  for (const auto& c : t.columns) {
    if (!out.empty()) out += ", ";
    out += quote_ident(c.name);
  }
  return out;
}

/// Reads up to `limit` rows of a streaming result; false at its end.
bool fetch_rows(my_session& s, MYSQL_RES* res, const row_shape& shape, size_t limit,
                table_reader& rows, std::vector<row>& out, const std::string& doing) {
  unsigned cols = mysql_num_fields(res);
  if (cols != shape.conv.size())
    throw error(failure_code::internal, "cannot " + doing + ": the server returns " +
                                          std::to_string(cols) + " columns");
  for (size_t n = 0; n < limit; ++n) {
    MYSQL_ROW r = mysql_fetch_row(res);
    if (!r) {
      if (mysql_errno(s.handle()) != 0) s.fail(doing);
      return false;
    }
    unsigned long* lens = mysql_fetch_lengths(res);
    row rw = rows.take_row(cols);
    for (unsigned j = 0; j < cols; ++j) {
      auto& c = rw.cells[j];
      fill_cell(c, r[j], r[j] ? lens[j] : 0);
      if (!r[j]) continue;
      switch (shape.conv[j]) {
        case conversion::plain: break;
        case conversion::bits: c.text = my_bits_text(r[j], lens[j], shape.bit_length[j]); break;
        case conversion::timestamptz: my_timestamptz_text(c.text); break;
      }
    }
    out.push_back(std::move(rw));
  }
  return true;
}

/// Keyset pagination with the key comparison spelled out, because MariaDB's
/// range optimizer does not use an index for a row-constructor comparison:
/// `k1 >= v1 AND (k1 > v1 OR (k1 = v1 AND k2 > v2))` starts the index scan at
/// v1 and pages cost only their own rows.
class my_keyset_reader : public table_reader {
public:
  my_keyset_reader(my_session& s, const table_schema& t, std::vector<cell> after_key,
                   const std::string& conditions)
    : s_(s), t_(t), name_(to_string(t.id)), key_(order_columns(t)), shape_(shape_of(t)),
      last_key_(std::move(after_key)) {
    head_ = "SELECT " + select_list(t) + " FROM " + qualified(t.id);
    for (size_t k = 0; k < key_.size(); ++k)
      order_ += (k ? ", " : "") + quote_ident(t.columns[key_[k]].name);
    if (!conditions.empty()) conditions_ = "(" + conditions + ")";
    if (!last_key_.empty() && last_key_.size() != key_.size())
      throw error(failure_code::internal, "resumes " + name_ + " with a key of the wrong size");
  }

  std::vector<row> next(size_t limit) override {
    std::vector<row> out;
    if (done_) return out;
    if (limit == 0) limit = 1;
    std::vector<std::string> where;
    if (!last_key_.empty()) where.push_back(after_last_key());
    if (!conditions_.empty()) where.push_back(conditions_);
    std::string sql = head_;
    for (size_t i = 0; i < where.size(); ++i) sql += (i ? " AND " : " WHERE ") + where[i];
    sql += " ORDER BY " + order_ + " LIMIT " + std::to_string(limit);
    std::string doing = "read " + name_;
    auto res = s_.stream(sql, doing);
    // A page is read to its end (LIMIT bounds it) before the next
    // statement, as the protocol requires.
    fetch_rows(s_, res.get(), shape_, limit + 1, *this, out, doing);
    if (out.empty()) {
      done_ = true;
      return out;
    }
    std::vector<cell> key;
    for (size_t k : key_) key.push_back(out.back().cells[k]);
    last_key_ = std::move(key);
    return out;
  }

private:
  std::string after_last_key() {
    std::vector<std::string> cols, vals;
    for (size_t k = 0; k < key_.size(); ++k) {
      const auto& col = t_.columns[key_[k]];
      cols.push_back(quote_ident(col.name));
      vals.push_back(s_.literal(last_key_[k], col));
    }
    size_t n = cols.size();
    std::string pred = cols[n - 1] + " > " + vals[n - 1];
    for (size_t k = n - 1; k-- > 0;)
      pred = "(" + cols[k] + " > " + vals[k] + " OR (" + cols[k] + " = " + vals[k] +
             " AND " + pred + "))";
    if (n > 1) pred = cols[0] + " >= " + vals[0] + " AND " + pred;
    return "(" + pred + ")";
  }

  my_session& s_;
  table_schema t_;
  std::string name_;
  std::vector<size_t> key_;
  row_shape shape_;
  std::vector<cell> last_key_;
  std::string head_, order_, conditions_;
  bool done_ = false;
};

/// One pass over a table without order columns, streamed with
/// mysql_use_result; the session is busy until the reader ends.
class my_stream_reader : public table_reader {
public:
  my_stream_reader(my_session& s, const table_schema& t, const std::string& conditions)
    : s_(s), name_(to_string(t.id)), shape_(shape_of(t)), res_(nullptr, &mysql_free_result) {
    std::string sql = "SELECT " + select_list(t) + " FROM " + qualified(t.id);
    if (!conditions.empty()) sql += " WHERE (" + conditions + ")";
    res_ = s_.stream(sql, "read " + name_);
    s_.set_streaming(true);
  }

  ~my_stream_reader() override { finish(); }

  std::vector<row> next(size_t limit) override {
    std::vector<row> out;
    if (!res_) return out;
    try {
      if (!fetch_rows(s_, res_.get(), shape_, limit ? limit : 1, *this, out, "read " + name_))
        finish();
    } catch (...) {
      finish();
      throw;
    }
    return out;
  }

private:
  void finish() {
    if (!res_) return;
    res_.reset();  // mysql_free_result reads what is left of the result
    s_.set_streaming(false);
  }

  my_session& s_;
  std::string name_;
  row_shape shape_;
  result_ptr res_;
};

}  // namespace

std::unique_ptr<table_reader> my_session::open_table(const table_schema& t,
                                                     const std::vector<cell>& after_key,
                                                     const std::string& conditions) {
  if (!order_columns(t).empty())
    return std::make_unique<my_keyset_reader>(*this, t, after_key, conditions);
  return std::make_unique<my_stream_reader>(*this, t, conditions);
}

}  // namespace trib::source_detail
