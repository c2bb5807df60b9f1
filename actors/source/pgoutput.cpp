// pgoutput protocol version 1 decoder; see pgoutput.hpp. Every read checks
// the bytes left first, and every message must be consumed exactly, so a
// truncated or padded message is an error naming the offset, never a crash.

#include "actors/source/pgoutput.hpp"

#include <cstring>
#include <functional>

#include "actors/source/pg_text.hpp"
#include "messages/failure.hpp"

namespace trib {

namespace {

/// Big-endian reads over one message, with the offset for error messages.
class cursor {
public:
  cursor(const char* data, size_t size)
    : p_(reinterpret_cast<const unsigned char*>(data)), size_(size) {
  }

  [[noreturn]] void fail(const std::string& what) const { fail_at(what, off_); }

  [[noreturn]] static void fail_at(const std::string& what, size_t off) {
    throw error(failure_code::bad_data,
                "pgoutput: " + what + " at offset " + std::to_string(off));
  }

  size_t offset() const { return off_; }
  bool at_end() const { return off_ == size_; }

  uint8_t u8(const char* what) {
    need(1, what);
    return p_[off_++];
  }

  uint16_t u16(const char* what) { return static_cast<uint16_t>(be(2, what)); }
  uint32_t u32(const char* what) { return static_cast<uint32_t>(be(4, what)); }
  uint64_t u64(const char* what) { return be(8, what); }

  /// A NUL-terminated string.
  std::string cstring(const char* what) {
    const void* nul = off_ < size_ ? std::memchr(p_ + off_, 0, size_ - off_) : nullptr;
    if (!nul) fail(std::string("unterminated ") + what);
    size_t len = static_cast<const unsigned char*>(nul) - (p_ + off_);
    std::string s(reinterpret_cast<const char*>(p_ + off_), len);
    off_ += len + 1;
    return s;
  }

  /// `n` raw bytes, as a pointer into the message.
  const char* bytes(size_t n, const char* what) {
    need(n, what);
    const char* out = reinterpret_cast<const char*>(p_ + off_);
    off_ += n;
    return out;
  }

  void need(size_t n, const char* what) const {
    if (size_ - off_ < n) fail(std::string("truncated ") + what);
  }

  void expect_end(const char* message) const {
    if (!at_end()) fail(std::string("trailing bytes after ") + message + " message");
  }

private:
  uint64_t be(size_t n, const char* what) {
    need(n, what);
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = v << 8 | p_[off_ + i];
    off_ += n;
    return v;
  }

  const unsigned char* p_;
  size_t size_;
  size_t off_ = 0;
};

}  // namespace

bool pg_tuple::has_unchanged_toast() const {
  for (bool b : unchanged_toast)
    if (b) return true;
  return false;
}

const char* to_string(pg_change_kind k) {
  switch (k) {
    case pg_change_kind::insert: return "insert";
    case pg_change_kind::update: return "update";
    case pg_change_kind::remove: return "delete";
  }
  return "?";
}

const pg_relation* pgoutput_decoder::relation(uint32_t id) const {
  auto it = relations_.find(id);
  return it == relations_.end() ? nullptr : &it->second;
}

void pgoutput_decoder::set_type_kind(uint32_t type_oid, value_kind kind) {
  type_kinds_[type_oid] = kind;
}

value_kind pgoutput_decoder::kind_of(uint32_t type_oid) const {
  auto it = type_kinds_.find(type_oid);
  return it == type_kinds_.end() ? pg_builtin_kind(type_oid) : it->second;
}

namespace {

/// TupleData: Int16 column count, then per column 'n' (null), 'u' (unchanged
/// TOAST) or 't' Int32 length + text. 'b' (binary) is only sent when the
/// subscriber asks for binary, which pg_replication never does.
pg_tuple read_tuple(cursor& c, const pg_relation& rel,
                    const std::function<value_kind(uint32_t)>& kind_of) {
  size_t at = c.offset();
  uint16_t n = c.u16("tuple column count");
  if (n != rel.columns.size())
    cursor::fail_at("tuple of " + std::to_string(n) + " columns for relation " +
                      std::to_string(rel.id) + " of " + std::to_string(rel.columns.size()),
                    at);
  pg_tuple t;
  t.values.cells.resize(n);
  t.unchanged_toast.assign(n, false);
  for (size_t i = 0; i < n; ++i) {
    size_t col_at = c.offset();
    char kind = static_cast<char>(c.u8("tuple column kind"));
    switch (kind) {
      case 'n': break;  // cells start null
      case 'u': t.unchanged_toast[i] = true; break;
      case 't': {
        uint32_t len = c.u32("column value length");
        const char* v = c.bytes(len, "column value");
        try {
          t.values.cells[i] = make_cell(pg_canonical_text(kind_of(rel.columns[i].type_oid), v, len));
        } catch (const error& e) {
          cursor::fail_at(std::string(e.what()) + " in column " + rel.columns[i].name, col_at);
        }
        break;
      }
      default:
        cursor::fail_at(std::string("unsupported tuple column kind '") + kind + "'", col_at);
    }
  }
  return t;
}

}  // namespace

pg_message pgoutput_decoder::decode(const char* data, size_t size) {
  cursor c(data, size);
  if (size == 0) c.fail("empty message");
  char type = static_cast<char>(c.u8("message type"));
  auto kinds = [this](uint32_t oid) { return kind_of(oid); };
  auto find_relation = [&](uint32_t id, size_t at) -> const pg_relation& {
    auto it = relations_.find(id);
    if (it == relations_.end())
      cursor::fail_at("change of unknown relation " + std::to_string(id), at);
    return it->second;
  };
  switch (type) {
    case 'B': {
      pg_begin b;
      b.final_lsn = c.u64("begin final lsn");
      b.commit_time = static_cast<int64_t>(c.u64("begin commit time"));
      b.xid = c.u32("begin xid");
      c.expect_end("begin");
      return b;
    }
    case 'C': {
      pg_commit m;
      m.flags = c.u8("commit flags");
      m.commit_lsn = c.u64("commit lsn");
      m.end_lsn = c.u64("commit end lsn");
      m.commit_time = static_cast<int64_t>(c.u64("commit time"));
      c.expect_end("commit");
      return m;
    }
    case 'O': {
      pg_origin o;
      o.commit_lsn = c.u64("origin lsn");
      o.name = c.cstring("origin name");
      c.expect_end("origin");
      return o;
    }
    case 'R': {
      pg_relation r;
      r.id = c.u32("relation id");
      r.schema = c.cstring("relation schema");
      r.name = c.cstring("relation name");
      r.replica_identity = static_cast<char>(c.u8("relation replica identity"));
      uint16_t n = c.u16("relation column count");
      r.columns.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        pg_column col;
        col.key = (c.u8("column flags") & 1) != 0;
        col.name = c.cstring("column name");
        col.type_oid = c.u32("column type");
        col.type_modifier = static_cast<int32_t>(c.u32("column type modifier"));
        r.columns.push_back(std::move(col));
      }
      c.expect_end("relation");
      relations_[r.id] = r;  // only a complete message replaces the entry
      return r;
    }
    case 'Y': {
      pg_type t;
      t.oid = c.u32("type oid");
      t.schema = c.cstring("type schema");
      t.name = c.cstring("type name");
      c.expect_end("type");
      return t;
    }
    case 'I': {
      pg_change ch;
      ch.kind = pg_change_kind::insert;
      size_t at = c.offset();
      ch.relation_id = c.u32("insert relation id");
      const auto& rel = find_relation(ch.relation_id, at);
      size_t tag_at = c.offset();
      if (c.u8("insert tuple tag") != 'N') cursor::fail_at("insert without a new tuple", tag_at);
      ch.new_tuple = read_tuple(c, rel, kinds);
      c.expect_end("insert");
      return ch;
    }
    case 'U': {
      pg_change ch;
      ch.kind = pg_change_kind::update;
      size_t at = c.offset();
      ch.relation_id = c.u32("update relation id");
      const auto& rel = find_relation(ch.relation_id, at);
      size_t tag_at = c.offset();
      char tag = static_cast<char>(c.u8("update tuple tag"));
      if (tag == 'K' || tag == 'O') {
        ch.key_only = tag == 'K';
        ch.old_tuple = read_tuple(c, rel, kinds);
        tag_at = c.offset();
        tag = static_cast<char>(c.u8("update new tuple tag"));
      }
      if (tag != 'N') cursor::fail_at("update without a new tuple", tag_at);
      ch.new_tuple = read_tuple(c, rel, kinds);
      c.expect_end("update");
      return ch;
    }
    case 'D': {
      pg_change ch;
      ch.kind = pg_change_kind::remove;
      size_t at = c.offset();
      ch.relation_id = c.u32("delete relation id");
      const auto& rel = find_relation(ch.relation_id, at);
      size_t tag_at = c.offset();
      char tag = static_cast<char>(c.u8("delete tuple tag"));
      if (tag != 'K' && tag != 'O') cursor::fail_at("delete without an old tuple", tag_at);
      ch.key_only = tag == 'K';
      ch.old_tuple = read_tuple(c, rel, kinds);
      c.expect_end("delete");
      return ch;
    }
    case 'T': {
      pg_truncate t;
      uint32_t n = c.u32("truncate relation count");
      uint8_t options = c.u8("truncate options");
      t.cascade = (options & 1) != 0;
      t.restart_identity = (options & 2) != 0;
      // Check the length before reserving: the count comes off the wire.
      c.need(static_cast<size_t>(n) * 4, "truncate relation ids");
      t.relation_ids.reserve(n);
      for (uint32_t i = 0; i < n; ++i) t.relation_ids.push_back(c.u32("truncate relation id"));
      c.expect_end("truncate");
      return t;
    }
    case 'M': {
      pg_logical_message m;
      m.transactional = (c.u8("message flags") & 1) != 0;
      m.lsn = c.u64("message lsn");
      m.prefix = c.cstring("message prefix");
      uint32_t len = c.u32("message length");
      m.content.assign(c.bytes(len, "message content"), len);
      c.expect_end("logical");
      return m;
    }
    default:
      cursor::fail_at(std::string("unsupported message type '") + type + "'", 0);
  }
}

}  // namespace trib
