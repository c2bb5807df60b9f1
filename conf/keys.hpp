#pragma once
// Every configuration key the loader accepts, in one table per kind of file.
// The loader asks this table which keys a map may hold, and a unit test checks
// the table against docs/configuration.md, so the reference cannot drift from
// what the loader takes.

#include <string>
#include <vector>

namespace trib {

/// One kind of configuration file and its keys as dotted paths from the
/// file's root, leaves only: `[]` marks the items of a list and `<table>` a
/// name the user chooses (`snapshot.per-table-config[].tables.<table>.split-key`).
struct file_keys {
  std::string file;  // as docs/configuration.md heads its section
  std::vector<std::string> paths;
};

const std::vector<file_keys>& accepted_keys();

/// The keys a map at `under` ("" for the root; a path of the table, e.g.
/// "snapshot" or "allow[].allow.<table>") of `file` may hold, in table order.
/// An unknown file or path is a programming error (std::logic_error).
std::vector<std::string> keys_under(const std::string& file, const std::string& under);

}  // namespace trib
