#pragma once
// Registration of every message type with CAF, so that values can cross a
// node boundary and show up readably in CAF's diagnostics.

namespace caf {
class actor_system_config;
}

namespace trib {

/// Adds every messages/ type (and the vectors that travel) to `cfg`, plus the
/// error category of trib::failure. Call before the actor_system exists.
void register_message_types(caf::actor_system_config& cfg);

}  // namespace trib
