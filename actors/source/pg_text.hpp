#pragma once
// PostgreSQL text output -> canonical text (messages/row.hpp). Shared by every
// path that reads PostgreSQL values as text (the snapshot session's libpq
// results and the pgoutput decoder's tuple data), so both produce the same
// cells for the same value. The sessions that produce the text must run with
// the settings of pg_canonical_settings(); under them every type's output is
// already canonical except bytea, which arrives hex-encoded.

#include <cstddef>
#include <cstdint>
#include <string>

#include "messages/table.hpp"

namespace trib {

/// The session settings under which PostgreSQL's text output is canonical,
/// as `-c name=value` options for a libpq `options` connection parameter
/// (the only way to set them on a walsender, which runs no SET before
/// decoding): hex bytea, UTC timestamptz ("+00"), ISO-8601 intervals, ISO
/// dates.
const char* pg_canonical_options();

/// Canonical text of a value of kind `kind` from PostgreSQL's text output
/// `v` (`len` bytes). Throws trib::error{bad_data} on malformed bytea.
std::string pg_canonical_text(value_kind kind, const char* v, size_t len);

/// bytea in hex output ("\x00ff") to raw bytes; throws trib::error{bad_data}.
std::string pg_decode_bytea(const char* v, size_t len);

/// The value kind of a built-in type oid, as far as text conversion cares:
/// bytea (17) is `bytes`, every other type `text` (its output is canonical
/// already). Domains and other user types have oids of their own; callers
/// that know them from the catalog map them themselves.
value_kind pg_builtin_kind(uint32_t type_oid);

/// "16/B374D848" to a 64-bit LSN (the inverse of format_lsn); throws
/// trib::error{bad_data} on anything else.
uint64_t pg_parse_lsn(const std::string& text);

}  // namespace trib
